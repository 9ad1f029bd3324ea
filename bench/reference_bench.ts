/**
 * `deno bench` for reference parsing: the forms a release pipeline feeds regkit
 * (Docker Hub short names, namespaced registries with ports, digests), and the
 * error path for an invalid one.
 *
 * @module
 */

import { parseReference, parseRepository, RegistryError } from "../mod.ts";

const DIGEST = `sha256:${"a1b2c3d4".repeat(8)}`;

const INPUTS: readonly string[] = [
  "alpine",
  "ubuntu:24.04",
  "library/nginx:1.27-alpine",
  "quay.io/org/app:1.2.3",
  "registry.example.com:5000/team/sub/app:v1.2.3-rc.1",
  `quay.io/org/app@${DIGEST}`,
  `127.0.0.1:5000/bench/r042:t0042@${DIGEST}`,
  "docker://quay.io/org/app:latest",
  "[::1]:5000/ns/app:v1",
  "ghcr.io/owner/repository-with-a-longer-name/and/more/levels:2026.12.01",
];

Deno.bench({
  name: "parseReference: 10 mixed references",
  group: "reference",
  baseline: true,
  fn() {
    for (const input of INPUTS) parseReference(input);
  },
});

Deno.bench({
  name: "parseReference: Docker Hub short name",
  group: "reference",
  fn() {
    parseReference("alpine");
  },
});

Deno.bench({
  name: "parseReference: registry with port, tag and digest",
  group: "reference",
  fn() {
    parseReference(`127.0.0.1:5000/bench/r042:t0042@${DIGEST}`);
  },
});

Deno.bench({
  name: "parseReference: invalid reference (throws INVALID_REFERENCE)",
  group: "reference",
  fn() {
    try {
      parseReference("Quay.io/Org/App:bad tag");
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
    }
  },
});

Deno.bench({
  name: "parseRepository + scope()",
  group: "reference",
  fn() {
    parseRepository("registry.example.com:5000/team/sub/app").scope("pull");
  },
});
