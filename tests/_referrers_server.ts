/**
 * A small registry on loopback that serves the OCI 1.1 referrers API as the
 * distribution spec says (`GET /v2/<name>/referrers/<digest>`: an image index
 * with `Content-Type: application/vnd.oci.image.index.v1+json`, one
 * descriptor per manifest whose `subject` is the digest, with `artifactType`
 * and annotations, `Link` pages, `?artifactType=` with `OCI-Filters-Applied`
 * when the filter is on), because no registry with that API can be installed
 * on these machines. Each quirk registries show instead can be switched on.
 * Manifests are stored as pushed (PUT by tag or digest); blobs (signature
 * payloads and bundles, which verification reads) are served by digest once
 * stored with `putBlob`.
 *
 * @module
 */

/** What the referrers endpoint does instead of the spec. */
export type ReferrersQuirk =
  | "none"
  | "404"
  | "400"
  | "405"
  | "406"
  | "501"
  | "500"
  | "401-no-challenge"
  | "html-200"
  | "redirect-other-host";

/** Options for {@linkcode startReferrersServer}. */
export interface ReferrersServerOptions {
  /** Descriptors per referrers page (a `Link` to the next one beyond it). */
  pageSize?: number;
  /** Whether `?artifactType=` is applied (with `OCI-Filters-Applied`). */
  filter?: boolean;
  /** The quirk of the referrers endpoint. */
  quirk?: ReferrersQuirk;
  /** A Link on the last referrers page that points at another host. */
  foreignLink?: boolean;
}

/** A running server. */
export interface ReferrersServer {
  /** `127.0.0.1:PORT`. */
  host: string;
  /** Requests answered, as `METHOD path?query`. */
  requests: string[];
  /** Changes the behaviour from now on. */
  options: ReferrersServerOptions;
  /** Stores a manifest under `reference` (a tag or its digest) and under its digest. */
  put(
    repository: string,
    reference: string | null,
    mediaType: string,
    body: Uint8Array,
  ): Promise<string>;
  /** Stores a blob, served at `/v2/<repository>/blobs/<digest>`; returns its digest. */
  putBlob(repository: string, body: Uint8Array): Promise<string>;
  /** Stops the server. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Stored {
  mediaType: string;
  body: Uint8Array;
  digest: string;
}

async function digestOf(body: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
  return "sha256:" + Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Starts the server on a free loopback port. */
export function startReferrersServer(options: ReferrersServerOptions = {}): ReferrersServer {
  const manifests = new Map<string, Stored>(); // `${repo}@${ref}` → manifest
  const blobs = new Map<string, Uint8Array>(); // `${repo}@${digest}` → blob
  const requests: string[] = [];
  const state: ReferrersServerOptions = { pageSize: 100, filter: true, quirk: "none", ...options };
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request): Response | Promise<Response> => {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}${url.search}`);
      if (url.pathname === "/v2/") return new Response("{}", { status: 200 });
      const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      if (referrers) return answerReferrers(referrers[1], referrers[2], url);
      const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      if (manifest) {
        const stored = manifests.get(`${manifest[1]}@${manifest[2]}`);
        if (stored === undefined) {
          return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN", message: "unknown" }] }, {
            status: 404,
          });
        }
        const headers = {
          "content-type": stored.mediaType,
          "docker-content-digest": stored.digest,
          "content-length": String(stored.body.length),
        };
        return new Response(request.method === "HEAD" ? null : stored.body as BodyInit, {
          headers,
        });
      }
      const blob = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
      if (blob) {
        const body = blobs.get(`${blob[1]}@${blob[2]}`);
        if (body === undefined) {
          return Response.json({ errors: [{ code: "BLOB_UNKNOWN", message: "unknown" }] }, {
            status: 404,
          });
        }
        const headers = {
          "content-type": "application/octet-stream",
          "docker-content-digest": blob[2],
          "content-length": String(body.length),
        };
        return new Response(request.method === "HEAD" ? null : body as BodyInit, { headers });
      }
      const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (tags) {
        const names = [...manifests.keys()].filter((k) => k.startsWith(`${tags[1]}@`))
          .map((k) => k.slice(tags[1].length + 1)).filter((t) => !t.startsWith("sha256:"));
        return Response.json({ name: tags[1], tags: names });
      }
      return new Response("404 page not found\n", { status: 404 });
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;

  function answerReferrers(repository: string, subject: string, url: URL): Response {
    switch (state.quirk) {
      case "404":
        return new Response("404 page not found\n", { status: 404 });
      case "400":
      case "405":
      case "406":
      case "501":
      case "500":
        return new Response("no", { status: Number(state.quirk) });
      case "401-no-challenge":
        return new Response("unauthorized", { status: 401 });
      case "html-200":
        return new Response("<html>sign in</html>", { headers: { "content-type": "text/html" } });
      case "redirect-other-host":
        return Response.redirect(`http://localhost:${server.addr.port}/login`, 303);
    }
    const wanted = url.searchParams.get("artifactType");
    const all: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const [key, stored] of manifests) {
      if (!key.startsWith(`${repository}@`) || seen.has(stored.digest)) continue;
      seen.add(stored.digest);
      const json = JSON.parse(new TextDecoder().decode(stored.body));
      if (json.subject?.digest !== subject) continue;
      const artifactType = json.artifactType ?? json.config?.mediaType;
      if (wanted !== null && state.filter && artifactType !== wanted) continue;
      all.push({
        mediaType: stored.mediaType,
        digest: stored.digest,
        size: stored.body.length,
        ...(artifactType === undefined ? {} : { artifactType }),
        ...(json.annotations ? { annotations: json.annotations } : {}),
      });
    }
    all.sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
    const page = Number(url.searchParams.get("page") ?? "0");
    const size = state.pageSize ?? 100;
    const slice = all.slice(page * size, (page + 1) * size);
    const headers: Record<string, string> = {
      "content-type": "application/vnd.oci.image.index.v1+json",
    };
    if (wanted !== null && state.filter) headers["oci-filters-applied"] = "artifactType";
    const next = new URLSearchParams(url.searchParams);
    next.set("page", String(page + 1));
    if ((page + 1) * size < all.length) {
      headers.link = `<${url.pathname}?${next}>; rel="next"`;
    } else if (state.foreignLink) {
      headers.link = `<http://localhost:${server.addr.port}${url.pathname}?${next}>; rel="next"`;
    }
    return Response.json(
      { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: slice },
      { headers },
    );
  }

  return {
    host,
    requests,
    options: state,
    async put(repository, reference, mediaType, body) {
      const digest = await digestOf(body);
      const stored = { mediaType, body, digest };
      manifests.set(`${repository}@${digest}`, stored);
      if (reference !== null) manifests.set(`${repository}@${reference}`, stored);
      return digest;
    },
    async putBlob(repository, body) {
      const digest = await digestOf(body);
      blobs.set(`${repository}@${digest}`, body);
      return digest;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** The OCI empty descriptor (`{}`), the config of artifacts. */
export const EMPTY_DESCRIPTOR = {
  mediaType: "application/vnd.oci.empty.v1+json",
  digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  size: 2,
} as const;

/** A subject's descriptor. */
export interface SubjectDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * Pushes a small OCI image manifest (no layers; the tag in its annotations, so each is distinct)
 * to be a subject of referrers.
 *
 * @returns Its descriptor.
 */
export async function pushSubject(
  server: ReferrersServer,
  repo: string,
  tag: string,
): Promise<SubjectDescriptor> {
  const mediaType = "application/vnd.oci.image.manifest.v1+json";
  const body = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { ...EMPTY_DESCRIPTOR, mediaType: "application/vnd.oci.image.config.v1+json" },
    layers: [],
    annotations: { tag },
  }));
  const digest = await server.put(repo, tag, mediaType, body);
  return { digest, mediaType, size: body.length };
}
