/**
 * A minimal HTTP/1.1 server over TLS for test fixtures. `Deno.serve` does not
 * set TCP_NODELAY, so every response larger than one segment waits ~40 ms for
 * the client's delayed ACK (Nagle); real token servers answer in ~1 ms. This
 * server writes each response (head and body) in one write, so fixtures are as
 * fast as the servers they stand in for. Keep-alive, Content-Length bodies only.
 *
 * @module
 */

/** A running server. */
export interface Http1Server {
  /** The TCP port. */
  port: number;
  /** Stops accepting and closes open connections. */
  shutdown(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MAX_HEAD = 64 * 1024;
const MAX_BODY = 1024 * 1024;

function indexOfHeadEnd(buffer: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (
      buffer[i] === 10 && buffer[i - 1] === 13 && buffer[i - 2] === 10 && buffer[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

/**
 * Serves `handler` over TLS on `hostname:port` (port 0 picks a free one).
 */
export function serveTls1(
  options: { hostname: string; port: number; cert: string; key: string },
  handler: (request: Request) => Response | Promise<Response>,
): Http1Server {
  const listener = Deno.listenTls({
    hostname: options.hostname,
    port: options.port,
    cert: options.cert,
    key: options.key,
    alpnProtocols: ["http/1.1"],
  });
  const conns = new Set<Deno.Conn>();
  const origin = `https://${options.hostname}:${listener.addr.port}`;

  async function serveConn(conn: Deno.Conn) {
    conns.add(conn);
    let buffer = new Uint8Array(16 * 1024);
    let length = 0;
    const readMore = async (): Promise<boolean> => {
      if (length === buffer.length) {
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      const n = await conn.read(buffer.subarray(length));
      if (n === null) return false;
      length += n;
      return true;
    };
    try {
      for (;;) {
        let headEnd = indexOfHeadEnd(buffer, length);
        while (headEnd === -1) {
          if (length > MAX_HEAD || !(await readMore())) return;
          headEnd = indexOfHeadEnd(buffer, length);
        }
        const lines = decoder.decode(buffer.subarray(0, headEnd - 4)).split("\r\n");
        const [method, target] = lines[0].split(" ");
        const headers = new Headers();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
        }
        const bodyLength = Number(headers.get("content-length") ?? 0);
        if (!Number.isFinite(bodyLength) || bodyLength > MAX_BODY) return;
        while (length < headEnd + bodyLength) if (!(await readMore())) return;
        const body = buffer.slice(headEnd, headEnd + bodyLength);
        buffer.copyWithin(0, headEnd + bodyLength, length);
        length -= headEnd + bodyLength;
        const request = new Request(new URL(target, origin), {
          method,
          headers,
          ...(bodyLength > 0 && method !== "GET" && method !== "HEAD" ? { body } : {}),
        });
        const response = await handler(request);
        const payload = method === "HEAD"
          ? new Uint8Array()
          : new Uint8Array(await response.arrayBuffer());
        let head = `HTTP/1.1 ${response.status} ${response.statusText || "OK"}\r\n`;
        for (const [name, value] of response.headers) {
          if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
        }
        head += `content-length: ${payload.byteLength}\r\nconnection: keep-alive\r\n\r\n`;
        const headBytes = encoder.encode(head);
        const out = new Uint8Array(headBytes.byteLength + payload.byteLength);
        out.set(headBytes);
        out.set(payload, headBytes.byteLength);
        for (let written = 0; written < out.byteLength;) {
          written += await conn.write(out.subarray(written));
        }
        if (headers.get("connection")?.toLowerCase() === "close") return;
      }
    } catch {
      // the peer went away or the TLS handshake failed: drop the connection
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      serveConn(conn);
    }
  })();

  return {
    port: listener.addr.port,
    async shutdown() {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await accepting;
    },
  };
}
