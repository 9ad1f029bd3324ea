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
import { integerFlag } from "./flags.ts";
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
    checkOne("digest", { positionals: ctx.positionals, noun: "reference" });
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
    checkOne("manifest", { positionals: ctx.positionals, noun: "reference" });
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
    checkOne("inspect", { positionals: ctx.positionals, noun: "reference" });
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

/** Counts and shows (escaped, a few) the names a registry listed that are not tags. */
class InvalidTags {
  count = 0;
  readonly #examples: string[] = [];

  /** The valid tags of `page`; the others are noted. */
  filter(page: readonly string[]): string[] {
    const valid: string[] = [];
    for (const tag of page) {
      if (isValidTag(tag)) {
        valid.push(tag);
      } else {
        this.count++;
        if (this.#examples.length < 3) this.#examples.push(`"${oneLine(tag).slice(0, 80)}"`);
      }
    }
    return valid;
  }

  /** One warning on stderr, when there were any. */
  async report(ctx: Context): Promise<void> {
    if (this.count === 0) return;
    await ctx.beforeStderr();
    await ctx.err.write(
      `regkit: warning: the registry listed ${this.count} name(s) that are not valid tags, ` +
        `not printed: ${this.#examples.join(", ")}${this.count > 3 ? ", …" : ""}\n`,
    );
  }
}

/** `regkit tags REPO`. */
export const TAGS: Command = {
  name: "tags",
  args: "REPO",
  summary: "list every tag of a repository",
  usage: ["regkit tags [flags] REPO"],
  description: `Lists every tag of REPO (e.g. quay.io/org/app), one per line, following pagination:
pages of up to 1,000 are asked for, and each is printed as it arrives. Names the registry
lists that are not valid tags are counted on stderr, not printed. More than --max-tags
tags (default 1000000) is RESPONSE_TOO_LARGE, exit 3, after the ones printed.`,
  flags: {
    json: `print {"Repository": "...", "Tags": [...]} instead`,
    "max-tags": true,
  },
  exit: { ok: "listed", missing: "no such repository", missingCodes: ["NAME_UNKNOWN"] },
  async run(ctx: Context): Promise<Outcome> {
    checkOne("tags", { positionals: ctx.positionals, noun: "repository" });
    const input = ctx.positionals[0];
    const name = parseRepository(input).name;
    const maxTags = ctx.flags["max-tags"] === undefined
      ? undefined
      : integerFlag("max-tags", ctx.flags["max-tags"], { min: 1, max: Number.MAX_SAFE_INTEGER });
    await using client = await makeClient(ctx);
    const pages = client.tagPages(input, maxTags === undefined ? {} : { maxTags });
    // The registry's text: only names of the tag grammar are printed (#11 item 18).
    const invalid = new InvalidTags();
    const json = ctx.flags.json;
    let printed = 0;
    try {
      for await (const page of pages) {
        const tags = invalid.filter(page);
        if (tags.length === 0) continue;
        // --json is written as JSON.stringify(…, null, 4) would, one page at a time.
        const lines = tags.map((t) => (json ? `        ${JSON.stringify(t)}` : t));
        const head = !json ? "" : printed === 0 ? jsonHead(name) + "\n" : ",\n";
        await ctx.out.write(head + lines.join(json ? ",\n" : "\n") + (json ? "" : "\n"));
        printed += tags.length;
      }
    } finally {
      await invalid.report(ctx);
    }
    if (json) {
      await ctx.out.write(printed === 0 ? `${jsonHead(name)}]\n}\n` : "\n    ]\n}\n");
    }
    return "ok";
  },
};

function jsonHead(name: string): string {
  return `{\n    "Repository": ${JSON.stringify(name)},\n    "Tags": [`;
}
