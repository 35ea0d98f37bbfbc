// A line-based protocol over TCP (SMTP here; POP3, IRC and many device consoles work alike).
function lineReader(readable: ReadableStream<Uint8Array>) {
  const reader = readable.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    // The next CRLF-terminated line, or null when the server closed the connection.
    async next(): Promise<string | null> {
      for (;;) {
        const end = buffered.indexOf('\r\n');
        if (end >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          return line;
        }
        const { value, done } = await reader.read();
        if (done) return null;
        buffered += decoder.decode(value, { stream: true });
      }
    },
    release() { reader.releaseLock(); },
  };
}

async function smtpHello(host: string): Promise<string[]> {
  const socket = new TCPSocket(host, 25, {
    noDelay: true,
    keepAlive: true,
    keepAliveDelay: 60_000,
    sendBufferSize: 64 * 1024,
    receiveBufferSize: 64 * 1024,
    dnsQueryType: 'ipv4',
  });
  const { readable, writable, remoteAddress, remotePort, localAddress, localPort } = await socket.opened;
  console.log(`connected to ${remoteAddress}:${remotePort} from ${localAddress}:${localPort}`);

  const lines = lineReader(readable);
  const writer = writable.getWriter();
  const encoder = new TextEncoder();
  // An SMTP reply is one or more lines; "250-" continues it, "250 " ends it.
  const reply = async (): Promise<string[]> => {
    const got: string[] = [];
    for (;;) {
      const line = await lines.next();
      if (line === null) throw new Error('the server closed the connection');
      got.push(line);
      if (line.length < 4 || line[3] !== '-') return got;
    }
  };
  try {
    const transcript = [...await reply()];
    await writer.write(encoder.encode('EHLO client.example\r\n'));
    transcript.push(...await reply());
    await writer.write(encoder.encode('QUIT\r\n'));
    transcript.push(...await reply());
    await writer.close();              // half-close: we send nothing more
    while (await lines.next() !== null) { /* wait for the server to close */ }
    await socket.closed;               // both directions are done
    return transcript;
  } catch (e) {
    // close() refuses while a stream is locked: release both first.
    lines.release();
    writer.releaseLock();
    await socket.close().catch(() => {});
    throw e;
  }
}
