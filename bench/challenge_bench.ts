/**
 * `deno bench` for `WWW-Authenticate` parsing: what registries actually send
 * (distribution, Docker Hub with `error="insufficient_scope"`, several
 * challenges on one line, several header lines).
 *
 * @module
 */

import { parseChallenges, selectChallenge } from "../mod.ts";

const DISTRIBUTION =
  'Bearer realm="https://127.0.0.1:5001/token",service="regkit-test-registry",scope="repository:bench/r042:pull"';
const DOCKER_HUB =
  'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull",error="insufficient_scope"';
const MULTI_SCOPE = `Bearer realm="https://auth.example/token",service="registry.example",scope="${
  Array.from({ length: 10 }, (_, i) => `repository:org/app${i}:pull`).join(" ")
}"`;
const TWO_CHALLENGES =
  'Basic realm="Registry Realm", Bearer realm="https://auth.example/token",service="registry.example",scope="repository:org/app:pull,push"';
const HEADER_LINES = ['Basic realm="Registry Realm"', DISTRIBUTION];

Deno.bench({
  name: "parseChallenges: distribution Bearer challenge",
  group: "challenge",
  baseline: true,
  fn() {
    parseChallenges(DISTRIBUTION);
  },
});

Deno.bench({
  name: "parseChallenges: Docker Hub insufficient_scope",
  group: "challenge",
  fn() {
    parseChallenges(DOCKER_HUB);
  },
});

Deno.bench({
  name: "parseChallenges: Basic + Bearer on one line",
  group: "challenge",
  fn() {
    parseChallenges(TWO_CHALLENGES);
  },
});

Deno.bench({
  name: "selectChallenge: Bearer with 10 scopes",
  group: "challenge",
  fn() {
    selectChallenge(MULTI_SCOPE);
  },
});

Deno.bench({
  name: "selectChallenge: two header lines",
  group: "challenge",
  fn() {
    selectChallenge(HEADER_LINES);
  },
});
