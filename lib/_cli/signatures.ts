/**
 * `regkit triangulate`, `regkit artifacts` and `regkit signed`: what is
 * attached to images (cosign tags, OCI 1.1 referrers and their fallback tag,
 * BuildKit entries), and whether each image is signed.
 *
 * @module
 */

import { green, red, yellow } from "@std/fmt/colors";
import {
  type ArtifactKind,
  type ArtifactsResult,
  cosignTags,
  type DigestArtifacts,
  parsePublicKey,
  parseReference,
  parseRepository,
  type SignedResult,
  type VerificationKey,
  type VerifyResult,
} from "../../mod.ts";
import { checkOne, type Command, type Context, makeClient } from "./command.ts";
import { CliError, type Outcome, usage } from "./exit_codes.ts";
import { integerFlag } from "./flags.ts";
import { describeReadError, oneLine, withoutCode } from "./io.ts";
import { bulkExit, runBulk } from "./bulk.ts";

const TYPES = ["signature", "attestation", "sbom", "referrers", "digest"] as const;
const KINDS: readonly ArtifactKind[] = ["signature", "attestation", "sbom", "other"];

async function triangulate(ctx: Context): Promise<Outcome> {
  checkOne("triangulate", { positionals: ctx.positionals, noun: "reference" });
  const type = ctx.flags.type ?? "signature";
  if (!(TYPES as readonly string[]).includes(type)) {
    throw usage(`Cannot use --type ${JSON.stringify(type)}: expected one of ${TYPES.join(", ")}`);
  }
  const ref = parseReference(ctx.positionals[0]);
  let digest = ref.digest;
  if (digest === undefined) {
    await using client = await makeClient(ctx);
    digest = await client.digest(ctx.positionals[0]);
  }
  const repository = ctx.flags["signature-repo"] === undefined
    ? ref.name
    : parseRepository(ctx.flags["signature-repo"]).name;
  const tags = cosignTags(digest);
  const line = type === "digest"
    ? `${ref.name}@${digest}`
    : `${repository}:${
      type === "referrers" ? tags.referrers : tags[type as "signature" | "attestation" | "sbom"]
    }`;
  await ctx.out.write(line + "\n");
  if (type === "signature" && !ctx.flags.quiet) {
    await ctx.beforeStderr();
    await ctx.err.write(
      "regkit: note: cosign v3 stores signatures as OCI 1.1 referrers (or in the fallback tag " +
        `${tags.referrers}), not in ${tags.signature}; "regkit signed" checks every place\n`,
    );
  }
  return "ok";
}

function platformsOf(ctx: Context, allowList: boolean): "index" | "all" | string[] {
  const value = ctx.flags.platforms ?? "index";
  if (value === "index" || value === "all") return value;
  if (!allowList) {
    throw usage(`Cannot use --platforms ${JSON.stringify(value)}: expected index or all`);
  }
  const list = value.split(",").map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) throw usage(`Cannot use --platforms "": expected index, all or OS/ARCH`);
  return list;
}

function kindsOf(ctx: Context): ArtifactKind[] | undefined {
  if (ctx.flags.kind === undefined) return undefined;
  const kinds = ctx.flags.kind.split(",").map((k) => k.trim());
  for (const kind of kinds) {
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw usage(`Cannot use --kind ${JSON.stringify(kind)}: expected ${KINDS.join(", ")}`);
    }
  }
  return kinds as ArtifactKind[];
}

function signatureRepo(ctx: Context): { signatureRepository?: string } {
  const repo = ctx.flags["signature-repo"];
  return repo === undefined ? {} : { signatureRepository: repo };
}

function concurrencyOf(ctx: Context): number {
  return ctx.flags.concurrency === undefined
    ? 8
    : integerFlag("concurrency", ctx.flags.concurrency, { min: 1, max: 1024 });
}

function unknownLine(reference: string, code: string, message: string, colors: boolean): string {
  return `${colors ? red("unknown") : "unknown"} ${oneLine(reference)} ${code}: ${
    oneLine(withoutCode(message, code))
  }`;
}

/** `signed`'s text line. */
export function signedLine(r: SignedResult, colors: boolean): string {
  const ref = oneLine(r.reference);
  switch (r.status) {
    case "signed": {
      const formats = [...new Set(r.signatures.map((s) => s.format))];
      for (const p of r.platforms ?? []) {
        for (const s of p.signatures) if (!formats.includes(s.format)) formats.push(s.format);
      }
      return `${colors ? green("signed") : "signed"} ${r.digest} ${ref} ${formats.join(",")}`;
    }
    case "unsigned": {
      const missing = (r.platforms ?? []).filter((p) => p.status === "unsigned").map((p) =>
        p.platform
      );
      const where = r.signatures.length > 0 && missing.length > 0
        ? ` (unsigned: ${missing.join(", ")})`
        : "";
      return `${colors ? yellow("unsigned") : "unsigned"} ${r.digest} ${ref}${where}`;
    }
    case "absent":
      return `${colors ? yellow("absent") : "absent"} ${ref}`;
    default:
      return unknownLine(r.reference, r.code, r.message, colors);
  }
}

/** `signed --json`'s record. */
export function signedJson(r: SignedResult): string {
  const record: Record<string, unknown> = { reference: r.reference, status: r.status };
  if (r.status === "signed" || r.status === "unsigned") {
    record.digest = r.digest;
    record.signatures = r.signatures.map(({ format, via, digest }) => ({ format, via, digest }));
    if (r.platforms !== undefined) {
      record.platforms = r.platforms.map((p) => ({
        platform: p.platform,
        digest: p.digest,
        status: p.status,
        signatures: p.signatures.map(({ format, via, digest }) => ({ format, via, digest })),
      }));
    }
  }
  if (r.status === "unknown") {
    record.code = r.code;
    record.message = r.message;
  }
  return JSON.stringify(record);
}

function artifactLines(d: DigestArtifacts, indent: string): string[] {
  const lines: string[] = [];
  if (d.artifacts.length === 0) lines.push(`${indent}(nothing attached)`);
  for (const a of d.artifacts) {
    const extra = [
      a.tag === undefined ? "" : `tag ${a.tag}`,
      a.predicateType === undefined ? "" : `predicate ${a.predicateType}`,
      a.created === undefined ? "" : `created ${a.created}`,
    ].filter(Boolean).map(oneLine);
    lines.push(
      `${indent}${a.kind} ${a.format} via ${a.via} ${a.digest}${
        extra.length ? ` (${extra.join(", ")})` : ""
      }`,
    );
  }
  const how = d.referrers.source === "api"
    ? "referrers API"
    : `referrers fallback tag (${oneLine(d.referrers.reason ?? "")})`;
  lines.push(`${indent}[${how}]`);
  return lines;
}

function artifactsText(r: ArtifactsResult, colors: boolean): string {
  if (r.status === "absent") {
    return `${colors ? yellow("absent") : "absent"} ${oneLine(r.reference)}`;
  }
  if (r.status === "unknown") return unknownLine(r.reference, r.code, r.message, colors);
  const lines = [`${oneLine(r.reference)} ${r.digest}`, ...artifactLines(r, "  ")];
  for (const p of r.platforms ?? []) {
    lines.push(`  ${p.platform} ${p.digest}`, ...artifactLines(p, "    "));
  }
  return lines.join("\n");
}

function artifactsJson(r: ArtifactsResult): string {
  if (r.status !== "unknown") return JSON.stringify(r);
  const { error: _error, ...rest } = r;
  return JSON.stringify(rest);
}

const BULK_FLAGS = {
  "from-file": "read references from FILE or standard input (-), one per line",
  "signature-repo": true,
  concurrency: true,
} as const;

async function keysOf(ctx: Context): Promise<VerificationKey[]> {
  const keys: VerificationKey[] = [];
  for (const path of ctx.flags.key ?? []) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new CliError(
        "INVALID_CONFIG",
        `Cannot read key ${JSON.stringify(path)}: ${
          describeReadError(error, "not permitted (--allow-read)")
        }`,
      );
    }
    keys.push(await parsePublicKey(text, { label: path }));
  }
  return keys;
}

function annotationsOf(ctx: Context): Record<string, string> | undefined {
  if (ctx.flags.annotation === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of ctx.flags.annotation) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usage(`Cannot use --annotation ${JSON.stringify(pair)}: expected K=V`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `signed --key`'s text line. */
export function verifiedLine(r: VerifyResult, colors: boolean): string {
  const ref = oneLine(r.reference);
  switch (r.status) {
    case "verified": {
      const all = [...r.signatures, ...(r.platforms ?? []).flatMap((p) => p.signatures)];
      const ok = all.find((s) => s.verified)!;
      return `${colors ? green("signed") : "signed"} ${r.digest} ${ref} ${ok.format} key=${
        ok.keyFingerprint!.slice(0, 16)
      }`;
    }
    case "unverified": {
      const all = [
        ...r.signatures.map((s) => s.reason),
        ...(r.platforms ?? []).filter((p) => p.status !== "verified").map((p) =>
          p.status === "unsigned"
            ? `${p.platform}: unsigned`
            : `${p.platform}: ${[...new Set(p.signatures.map((s) => s.reason))].join(",")}`
        ),
      ].filter((x) => x !== undefined);
      return `${colors ? red("unverified") : "unverified"} ${r.digest} ${ref} ${
        [...new Set(all)].join(",")
      }`;
    }
    case "unsigned":
      return `${colors ? yellow("unsigned") : "unsigned"} ${r.digest} ${ref}`;
    case "absent":
      return `${colors ? yellow("absent") : "absent"} ${ref}`;
    default:
      return unknownLine(r.reference, r.code, r.message, colors);
  }
}

/** `signed --key --json`'s record: every examined signature with `verified` and the reason. */
export function verifiedJson(r: VerifyResult): string {
  if (r.status === "unknown") {
    return JSON.stringify({
      reference: r.reference,
      status: r.status,
      code: r.code,
      message: r.message,
    });
  }
  const status = r.status === "verified" ? "signed" : r.status;
  return JSON.stringify({ ...r, status });
}

async function signedWithKeys(ctx: Context): Promise<Outcome> {
  const platforms = platformsOf(ctx, false) as "index" | "all";
  const concurrency = concurrencyOf(ctx);
  const keys = await keysOf(ctx);
  const annotations = annotationsOf(ctx);
  const identity = ctx.flags.identity;
  if (identity !== undefined) parseReference(identity);
  return await runBulk<VerifyResult>(ctx, {
    name: "signed",
    labels: ["verified", "unverified", "unsigned", "unknown"],
    results: (client, refs) =>
      client.verifyMany(refs, {
        keys,
        concurrency,
        platforms,
        ...(identity === undefined ? {} : { identity }),
        ...(annotations === undefined ? {} : { annotations }),
        ...signatureRepo(ctx),
      }),
    format: (r, colors) => ctx.flags.json ? verifiedJson(r) : verifiedLine(r, colors),
    missing: (r) => r.status !== "verified" && r.status !== "unknown",
  });
}

/** `regkit triangulate REF`. */
export const TRIANGULATE: Command = {
  name: "triangulate",
  args: "REF",
  summary: "print the cosign tag for an image, as cosign triangulate does",
  usage: ["regkit triangulate [flags] REF"],
  description: `Prints what "cosign triangulate" prints: REPO:sha256-<hex>.sig (--type signature),
.att (attestation), .sbom (sbom), the referrers fallback tag sha256-<hex> (referrers), or
REPO@sha256:<hex> (digest). A tag is resolved with one HEAD; a digest needs no request.
cosign v3 keeps signatures as referrers: use "regkit signed" to ask whether an image is signed.`,
  flags: { type: true, "signature-repo": true },
  exit: {
    ok: "printed",
    missing: "no such image or repository",
    missingCodes: ["MANIFEST_UNKNOWN", "NAME_UNKNOWN"],
  },
  run: triangulate,
};

/** `regkit artifacts REF...`. */
export const ARTIFACTS: Command = {
  name: "artifacts",
  args: "REF... | --from-file FILE|-",
  summary: "list what is attached to images: signatures, attestations, SBOMs",
  usage: ["regkit artifacts [flags] REF...", "regkit artifacts [flags] --from-file FILE|-"],
  description: `Lists every artifact attached to each image, as a tree: the image, then (with
--platforms all) each platform, each artifact with its kind, format, where it was found (via
referrers-api, referrers-tag, cosign-tag or index), digest, tag, predicate type and creation
time. Referrers come from the OCI 1.1 referrers API where the registry has it, else from the
fallback tag sha256-<hex>; legacy cosign tags (.sig, .att, .sbom) are always looked at.
With --json, one JSON object per image.`,
  flags: {
    ...BULK_FLAGS,
    platforms: "index (default), all, or OS/ARCH[/VARIANT][,…]",
    kind: true,
    json: "print JSON Lines, one object per image",
  },
  exit: bulkExit({ ok: "every image answered", missing: "some image absent and none unknown" }),
  async run(ctx: Context): Promise<Outcome> {
    const platforms = platformsOf(ctx, true);
    const kinds = kindsOf(ctx);
    const concurrency = concurrencyOf(ctx);
    return await runBulk<ArtifactsResult>(ctx, {
      name: "artifacts",
      labels: ["present", "absent", "unknown"],
      results: (client, refs) =>
        client.artifactsMany(refs, {
          concurrency,
          platforms,
          ...(kinds === undefined ? {} : { kinds }),
          ...signatureRepo(ctx),
        }),
      format: (r, colors) => ctx.flags.json ? artifactsJson(r) : artifactsText(r, colors),
      missing: (r) => r.status === "absent",
    });
  },
};

/** `regkit signed REF...`. */
export const SIGNED: Command = {
  name: "signed",
  args: "REF... | --from-file FILE|-",
  summary: "check that images are signed, one line per input",
  usage: ["regkit signed [flags] REF...", "regkit signed [flags] --from-file FILE|-"],
  description: `Checks that a signature is attached to each image's digest: a legacy cosign
.sig tag with signature layers, a cosign v3 Sigstore bundle (referrer or fallback tag), a
cosign OCI 1.1 or notation signature. Without --key this says that a signature exists, not
whose it is. Prints one line per input, in input order:
  signed <digest> <ref> <format>[,<format>…]
  unsigned <digest> <ref>
  absent <ref>
  unknown <ref> <CODE>: <message>
With --platforms all, an index is signed only when it and every child are.

With --key FILE (repeatable; PEM public keys as cosign writes them: ECDSA P-256/P-384, RSA,
Ed25519), "signed" means verified offline: a signature verifies with one of the keys, for this
digest, for --identity REF (legacy signatures' docker-reference) and with every --annotation
K=V. Lines then are:
  signed <digest> <ref> <format> key=<fingerprint prefix>
  unverified <digest> <ref> <reason>[,<reason>…]
  unsigned <digest> <ref>
Reasons: wrong-key, digest-mismatch, identity-mismatch, missing-annotation,
bad-signature-encoding, bad-payload, keyless, unsupported-format, too-large. No transparency
log or certificate is checked (as cosign's --insecure-ignore-tlog with --key).`,
  flags: {
    ...BULK_FLAGS,
    key: true,
    identity: true,
    annotation: true,
    platforms: "index (default) or all: every child of an index must be signed too",
    json: `print JSON Lines: {"reference","status","digest","signatures":[…],"platforms"?}`,
  },
  exit: bulkExit({
    ok: "every image signed (verified, with --key)",
    missing: "some image unsigned, unverified or absent, and none unknown",
    configuration: "a --key file that cannot be read or is not a supported key",
  }),
  async run(ctx: Context): Promise<Outcome> {
    if (ctx.flags.key !== undefined) return await signedWithKeys(ctx);
    if (ctx.flags.identity !== undefined || ctx.flags.annotation !== undefined) {
      throw usage(`--identity and --annotation need --key; see "regkit help signed"`);
    }
    const platforms = platformsOf(ctx, false) as "index" | "all";
    const concurrency = concurrencyOf(ctx);
    return await runBulk<SignedResult>(ctx, {
      name: "signed",
      labels: ["signed", "unsigned", "unknown"],
      results: (client, refs) =>
        client.signedMany(refs, {
          concurrency,
          platforms,
          ...signatureRepo(ctx),
        }),
      format: (r, colors) => ctx.flags.json ? signedJson(r) : signedLine(r, colors),
      missing: (r) => r.status === "unsigned" || r.status === "absent",
    });
  },
};
