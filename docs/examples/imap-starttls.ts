// TLS: IMAP on port 143 upgraded with STARTTLS (RFC 3501), then the same talk over TLS.
async function imapCapabilities(host: string): Promise<{ before: string; after: string; tls: TLSInfo }> {
  const plain = new TCPSocket(host, 143, { secureTransport: 'starttls' });
  const opened = await plain.opened;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  // Reads until a line starting with tag (or the greeting's "* OK") has arrived.
  const until = async (reader: ReadableStreamDefaultReader<Uint8Array>, tag: string) => {
    let text = '';
    while (!text.split('\r\n').some((line) => line.startsWith(tag))) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the server closed the connection');
      text += decoder.decode(value, { stream: true });
    }
    return text;
  };

  let reader = opened.readable.getReader();
  let writer = opened.writable.getWriter();
  await until(reader, '* OK');
  await writer.write(encoder.encode('a1 CAPABILITY\r\n'));
  const before = await until(reader, 'a1 ');
  await writer.write(encoder.encode('a2 STARTTLS\r\n'));
  if (!(await until(reader, 'a2 ')).includes('a2 OK')) throw new Error('the server refused STARTTLS');
  reader.releaseLock();
  writer.releaseLock();

  // The plaintext socket's streams end here; the TLS socket carries on the same connection.
  const secure = plain.startTls();
  const { readable, writable, tls } = await secure.opened;
  if (!tls) throw new Error('no TLS session');
  reader = readable.getReader();
  writer = writable.getWriter();
  await writer.write(encoder.encode('a3 CAPABILITY\r\n'));
  const after = await until(reader, 'a3 ');
  await writer.write(encoder.encode('a4 LOGOUT\r\n'));
  await until(reader, 'a4 ');
  reader.releaseLock();
  writer.releaseLock();
  await secure.close();
  return { before, after, tls };
}

// TLS from the first byte, with ALPN, as for IMAPS on port 993.
async function imapsVersion(host: string): Promise<string> {
  const socket = new TCPSocket(host, 993, { secureTransport: 'on', alpn: ['imap'] });
  const { tls } = await socket.opened;
  await socket.close();
  return `${tls?.version} ${tls?.cipherSuite}, certificate ${tls?.peerCertificate.sha256Fingerprint}`;
}
