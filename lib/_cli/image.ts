/**
 * The single-reference commands: `digest`, `manifest`, `inspect` and `tags`.
 *
 * @module
 */

import {
  type ImageInspection,
  isValidTag,
  parseRepository,
  type PlatformOptions,
} from "../../mod.ts";
import { checkOne, type Command, type Context, makeClient } from "./command.ts";
import { type ExitHelp, type Outcome, usage } from "./exit_codes.ts";
import { oneLine } from "./io.ts";

const MISSING_EXIT: ExitHelp = {
  ok: "found",
  missing: "no such image, repository or platform",
  missingCodes: ["MANIFEST_UNKNOWN", "NAME_UNKNOWN", "PLATFORM_NOT_FOUND"],
};

function platformOf(ctx: Context): PlatformOptions {
  return ctx.flags.platform === undefined ? {} : { platform: ctx.flags.platform };
}

/** `skopeo inspect`'s field order; a field the image lacks is left out. */
const INSPECTION_ORDER = [
  "Name",
  "Digest",
  "RepoTags",
  "Tag",
  "Created",
  "Architecture",
  "Os",
  "Variant",
  "Labels",
  "Layers",
  "Env",
  "MediaType",
] as const satisfies ReadonlyArray<keyof ImageInspection>;

type Unordered = Exclude<keyof ImageInspection, (typeof INSPECTION_ORDER)[number]>;
// Fails to compile, naming the field, when ImageInspection gains one the order lacks.
const _everyFieldOrdered: [Unordered] extends [never] ? true : Unordered = true;

/**
 * An inspection as pretty JSON, fields in `skopeo inspect`'s order.
 *
 * @param inspection What `client.inspect()` returned.
 * @returns The text, with a final newline.
 */
export function formatInspection(inspection: ImageInspection): string {
  const ordered: Partial<Record<keyof ImageInspection, unknown>> = {};
  for (const key of INSPECTION_ORDER) {
    if (inspection[key] !== undefined) ordered[key] = inspection[key];
  }
  return JSON.stringify(ordered, null, 4) + "\n";
}

/** `regkit digest REF`. */
export const DIGEST: Command = {
  name: "digest",
  args: "REF",
  summary: "print the digest a reference resolves to",
  usage: ["regkit digest [flags] REF"],
  description:
    "Prints the digest REF resolves to (the index digest for an index, unless --platform).",
  flags: { platform: true },
  exit: MISSING_EXIT,
  async run(ctx: Context): Promise<Outcome> {
    checkOne("digest", ctx.positionals, "reference");
    await using client = await makeClient(ctx);
    await ctx.out.write((await client.digest(ctx.positionals[0], platformOf(ctx))) + "\n");
    return "ok";
  },
};

/** `regkit manifest REF`. */
export const MANIFEST: Command = {
  name: "manifest",
  args: "REF",
  summary: "print the manifest, bytes as served",
  usage: ["regkit manifest [flags] REF"],
  description: "Writes the manifest to stdout exactly as the registry served it.",
  flags: { platform: true },
  exit: MISSING_EXIT,
  async run(ctx: Context): Promise<Outcome> {
    checkOne("manifest", ctx.positionals, "reference");
    await using client = await makeClient(ctx);
    await ctx.out.write((await client.manifest(ctx.positionals[0], platformOf(ctx))).bytes);
    return "ok";
  },
};

/** `regkit inspect REF`. */
export const INSPECT: Command = {
  name: "inspect",
  args: "REF",
  summary: "print image details as JSON, like skopeo inspect",
  usage: ["regkit inspect [flags] REF"],
  description: `Prints image details as pretty JSON, like skopeo inspect: ${
    INSPECTION_ORDER.join(", ")
  }.
RepoTags lists the repository's tags (one more request per page; not with --no-tags).
An index is resolved to --platform, or to this machine's platform.
--raw prints the manifest instead, --config the config blob, both exactly as served.`,
  flags: {
    platform: true,
    "no-tags": true,
    raw: "print the manifest as served, bytes unchanged (an index stays an index\n" +
      "unless --platform)",
    config: "print the config blob as served, bytes unchanged",
  },
  exit: MISSING_EXIT,
  async run(ctx: Context): Promise<Outcome> {
    checkOne("inspect", ctx.positionals, "reference");
    const { flags } = ctx;
    if (flags.raw && flags.config) {
      throw usage(`"inspect" takes --raw or --config, not both; see "regkit help inspect"`);
    }
    await using client = await makeClient(ctx);
    const ref = ctx.positionals[0];
    if (flags.raw) {
      await ctx.out.write((await client.manifest(ref, platformOf(ctx))).bytes);
    } else if (flags.config) {
      await ctx.out.write((await client.config(ref, platformOf(ctx))).bytes);
    } else {
      const options = { ...platformOf(ctx), tags: !flags["no-tags"] };
      await ctx.out.write(formatInspection(await client.inspect(ref, options)));
    }
    return "ok";
  },
};

/** `regkit tags REPO`. */
export const TAGS: Command = {
  name: "tags",
  args: "REPO",
  summary: "list every tag of a repository",
  usage: ["regkit tags [flags] REPO"],
  description:
    "Lists every tag of REPO (e.g. quay.io/org/app), one per line, following pagination.",
  flags: { json: `print {"Repository": "...", "Tags": [...]} instead` },
  exit: { ok: "listed", missing: "no such repository", missingCodes: ["NAME_UNKNOWN"] },
  async run(ctx: Context): Promise<Outcome> {
    checkOne("tags", ctx.positionals, "repository");
    const name = parseRepository(ctx.positionals[0]).name;
    await using client = await makeClient(ctx);
    const all = await client.tags(ctx.positionals[0]);
    // The registry's text: only names of the tag grammar are printed (#11 item 18).
    const tags = all.filter(isValidTag);
    const invalid = all.filter((t) => !isValidTag(t));
    if (invalid.length > 0) {
      await ctx.beforeStderr();
      await ctx.err.write(
        `regkit: warning: the registry listed ${invalid.length} name(s) that are not valid tags, ` +
          `not printed: ${
            invalid.slice(0, 3).map((t) => `"${oneLine(t).slice(0, 80)}"`).join(", ")
          }` +
          (invalid.length > 3 ? ", …" : "") + "\n",
      );
    }
    await ctx.out.write(
      ctx.flags.json
        ? JSON.stringify({ Repository: name, Tags: tags }, null, 4) + "\n"
        : tags.map((t) => t + "\n").join(""),
    );
    return "ok";
  },
};
