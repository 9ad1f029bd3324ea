/**
 * Test PKI for the integration rig, made with `openssl` once per process and cached:
 *
 * - a CA (ECDSA P-256) that signs
 * - a TLS leaf for the registry and the token server (SAN `IP:127.0.0.1, DNS:localhost, IP:::1`,
 *   `basicConstraints=critical,CA:FALSE`, serverAuth), and
 * - a self-signed ECDSA P-256 token-signing certificate, which goes into the registry's
 *   `auth.token.rootcertbundle` and into the `x5c` header of every JWT the token server issues.
 *
 * The files live in a temp dir that is removed when the process exits.
 *
 * @module
 */

/** PEM strings and file paths of the test PKI. */
export interface TestCerts {
  /** Temp dir holding every file below. */
  dir: string;
  /** CA certificate (PEM). Pass it to `Deno.createHttpClient({ caCerts: [caCert] })`. */
  caCert: string;
  /** CA private key (PKCS#8 PEM). */
  caKey: string;
  /** Path of {@linkcode TestCerts.caCert}. */
  caCertPath: string;
  /** Path of {@linkcode TestCerts.caKey}. */
  caKeyPath: string;
  /** TLS leaf certificate for 127.0.0.1 / localhost / ::1 (PEM). */
  serverCert: string;
  /** TLS leaf private key (PKCS#8 PEM). */
  serverKey: string;
  /** Path of {@linkcode TestCerts.serverCert}. */
  serverCertPath: string;
  /** Path of {@linkcode TestCerts.serverKey}. */
  serverKeyPath: string;
  /** Token-signing certificate, self-signed ECDSA P-256 (PEM). */
  signingCert: string;
  /** Token-signing private key (PKCS#8 PEM). */
  signingKey: string;
  /** Path of {@linkcode TestCerts.signingCert} (the registry's `rootcertbundle`). */
  signingCertPath: string;
  /** Path of {@linkcode TestCerts.signingKey}. */
  signingKeyPath: string;
  /** DER bytes of the signing certificate (for the JWT `x5c` header). */
  signingCertDer: Uint8Array<ArrayBuffer>;
  /** DER bytes of the signing key in PKCS#8 (for `crypto.subtle.importKey("pkcs8", …)`). */
  signingKeyPkcs8: Uint8Array<ArrayBuffer>;
}

let cached: Promise<TestCerts> | undefined;

/**
 * Returns the test PKI, creating it on first use (one `openssl` run per file).
 *
 * @returns PEM strings and paths; the same object for the life of the process.
 * @throws {Error} When `openssl` is missing or fails.
 */
export function getTestCerts(): Promise<TestCerts> {
  cached ??= createTestCerts().catch((error) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Decodes the first PEM block of `pem` into DER bytes. */
export function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
  const match = pem.match(/-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/);
  if (!match) throw new TypeError("Cannot decode PEM: no PEM block found");
  const binary = atob(match[1].replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function openssl(args: string[], cwd: string): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(
      "Cannot create test certificates: openssl is not runnable (apt-get install -y openssl)",
      { cause: error },
    );
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Cannot create test certificates: openssl ${args[0]} failed: ${stderr}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function createTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "regkit-certs-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already gone
    }
  });

  // CA
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "7",
    "-subj",
    "/CN=regkit test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);

  // TLS leaf for 127.0.0.1 / localhost / ::1, signed by the CA
  await openssl([
    "req",
    "-new",
    ...EC_KEY,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    [
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectKeyIdentifier=hash",
      "authorityKeyIdentifier=keyid,issuer",
      "",
    ].join("\n"),
  );
  const serial = "0x" +
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0"))
      .join("").replace(/^[89a-f]/, "1");
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-set_serial",
    serial,
    "-days",
    "7",
    "-extfile",
    "server.ext",
    "-out",
    "server.crt",
  ], dir);

  // Token-signing key pair + self-signed certificate (goes into rootcertbundle)
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    "signing.key",
    "-out",
    "signing.crt",
    "-days",
    "7",
    "-subj",
    "/CN=regkit test token signer",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "keyUsage=critical,digitalSignature",
  ], dir);

  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  const [caCert, caKey, serverCert, serverKey, signingCert, signingKey] = await Promise.all(
    ["ca.crt", "ca.key", "server.crt", "server.key", "signing.crt", "signing.key"].map(read),
  );
  if (!signingKey.includes("BEGIN PRIVATE KEY")) {
    throw new Error("Cannot create test certificates: openssl did not write a PKCS#8 key");
  }
  return {
    dir,
    caCert,
    caKey,
    caCertPath: `${dir}/ca.crt`,
    caKeyPath: `${dir}/ca.key`,
    serverCert,
    serverKey,
    serverCertPath: `${dir}/server.crt`,
    serverKeyPath: `${dir}/server.key`,
    signingCert,
    signingKey,
    signingCertPath: `${dir}/signing.crt`,
    signingKeyPath: `${dir}/signing.key`,
    signingCertDer: pemToDer(signingCert),
    signingKeyPkcs8: pemToDer(signingKey),
  };
}
