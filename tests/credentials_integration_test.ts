/**
 * Credentials resolved from real sources (a credential-helper executable, an
 * identity token) used against the real token-auth registry.
 */
import assert from "node:assert/strict";
import { ContainerRegistryClient, runCredentialHelper } from "../mod.ts";
import { startRegistry } from "./_registry.ts";
import { seedStandardImages } from "./_images.ts";

Deno.test("a credential helper's answer reaches the token-auth registry", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seedStandardImages(registry);
  const dir = await Deno.makeTempDir({ prefix: "regkit-helper-" });
  const password = registry.users.alice;
  // A real docker-credential-<name> executable: reads the server URL on stdin.
  await Deno.writeTextFile(
    `${dir}/docker-credential-regkittest`,
    `#!/bin/sh
read url
echo "$url" >> "${dir}/asked"
if [ "$url" = "${registry.host}" ]; then
  printf '%s' '${JSON.stringify({ ServerURL: registry.host, Username: "alice", Secret: password })}'
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
`,
  );
  await Deno.chmod(`${dir}/docker-credential-regkittest`, 0o755);
  const home = await Deno.makeTempDir();
  await Deno.mkdir(`${home}/.docker`);
  await Deno.writeTextFile(
    `${home}/.docker/config.json`,
    JSON.stringify({ auths: {}, credHelpers: { [registry.host]: "regkittest" } }),
  );
  await using client = new ContainerRegistryClient({
    env: (n) => n === "HOME" ? home : undefined,
    caCerts: [registry.caCert!],
    runHelper: (helper, url, options) =>
      runCredentialHelper(helper, url, { ...options, path: dir }),
  });
  const why = await client.explainCredentials(`${registry.host}/test/oci:v1`);
  assert.equal(why.source.type, "helper");
  assert.equal(why.source.helper, "regkittest");
  assert.equal(why.username, "alice");
  assert.ok(!JSON.stringify(why).includes(password));

  const result = await client.exists(`${registry.host}/test/oci:v1`);
  assert.equal(result.status === "present" && result.digest, images.oci.digest);
  // The helper was asked for this registry, and the token server saw alice's Basic credentials.
  assert.equal((await Deno.readTextFile(`${dir}/asked`)).trim().split("\n")[0], registry.host);
  const users = registry.tokenServer!.stats.requests.map((r) => r.user);
  assert.ok(users.length > 0 && users.every((u) => u === "alice"), JSON.stringify(users));
  // alice may not read denied/: unknown, not absent.
  assert.equal((await client.exists(`${registry.host}/denied/oci:v1`)).status, "unknown");
});

Deno.test("an identity token is exchanged with POST grant_type=refresh_token", async () => {
  const identityToken = "idt-7f3c9a:refresh";
  await using registry = await startRegistry({
    auth: "token",
    identityTokens: { [identityToken]: "alice" },
  });
  const images = await seedStandardImages(registry);
  const authFile = `${await Deno.makeTempDir()}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({ auths: { [registry.host]: { identitytoken: identityToken } } }),
  );
  await using client = new ContainerRegistryClient({
    authFile,
    env: () => undefined,
    caCerts: [registry.caCert!],
  });
  registry.tokenServer!.stats.reset();
  const result = await client.exists(`${registry.host}/test/docker:v1`);
  assert.equal(result.status === "present" && result.digest, images.docker.digest);
  const [request] = registry.tokenServer!.stats.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.grantType, "refresh_token");
  assert.equal(request.user, "alice");
  assert.deepEqual(request.scopes, ["repository:test/docker:pull"]);
  assert.deepEqual(await client.resolveAuthentication(`${registry.host}/test/docker:v1`), [
    "<token>",
    identityToken,
  ]);
});

Deno.test("a registrytoken is sent as the bearer token without a token request", async () => {
  await using registry = await startRegistry({ auth: "token" });
  const images = await seedStandardImages(registry);
  const token = await registry.tokenServer!.mintToken(["repository:test/oci:pull"], "alice");
  const authFile = `${await Deno.makeTempDir()}/auth.json`;
  await Deno.writeTextFile(
    authFile,
    JSON.stringify({ auths: { [registry.host]: { registrytoken: token } } }),
  );
  await using client = new ContainerRegistryClient({
    authFile,
    env: () => undefined,
    caCerts: [registry.caCert!],
  });
  registry.tokenServer!.stats.reset();
  const result = await client.exists(`${registry.host}/test/oci:v1`);
  assert.equal(result.status === "present" && result.digest, images.oci.digest);
  assert.equal(registry.tokenServer!.stats.tokenRequests, 0);
});
