// A TCP server: every accepted connection is a TCPSocket; this one answers each line in upper case.
async function serveUpperCase(stop: AbortSignal): Promise<void> {
  const server = new TCPServerSocket('::', { localPort: 48080, backlog: 64, ipv6Only: false });
  const { readable, localAddress, localPort } = await server.opened;
  console.log(`listening on [${localAddress}]:${localPort}; also ${server.localPort === localPort}`);
  const connections = readable.getReader();
  stop.addEventListener('abort', () => { connections.cancel(); });
  for (;;) {
    const { value: connection, done } = await connections.read();
    if (done) break;
    handle(connection).catch((e) => console.log('connection failed', e));
  }
  connections.releaseLock();
  await server.close();            // the cancel already stopped listening; accepted connections stay open
}

async function handle(connection: TCPSocket): Promise<void> {
  const { readable, writable, remoteAddress, remotePort } = await connection.opened;  // already open
  console.log(`client ${remoteAddress}:${remotePort}`);
  const reader = readable.getReader();
  const writer = writable.getWriter();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;               // the client half-closed
    await writer.write(encoder.encode(decoder.decode(value, { stream: true }).toUpperCase()));
  }
  await writer.close();            // both directions done: `closed` resolves
  await connection.closed;
}
