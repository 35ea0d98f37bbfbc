// The Raw Sockets explainer's shape: navigator.openTCPSocket / openUDPSocket resolve to an open
// socket whose streams and addresses are on the socket itself.

// Print a text page on a raw (JetDirect) printer.
async function printText(printer: string, text: string): Promise<void> {
  const socket = await navigator.openTCPSocket({ remoteAddress: printer, remotePort: 9100, noDelay: false });
  if (!socket.readable || !socket.writable) throw new Error('an open socket has streams');
  const writer = socket.writable.getWriter();
  await writer.write(new TextEncoder().encode(text + '\f'));
  await writer.close();            // half-close: the job is complete
  // Read to the end rather than cancel: closing with unread input resets the connection.
  const reader = socket.readable.getReader();
  while (!(await reader.read()).done) { /* status bytes, if any */ }
  await socket.closed;
}

// Let the user enter the destination in Socketeer's dialog; the page learns only what was chosen.
async function openUserChosen(): Promise<TCPSocket> {
  const socket = await navigator.openTCPSocket({ remotePort: 23 });  // telnet, host left to the user
  console.log(`the user chose ${socket.remoteAddress}:${socket.remotePort}` +
    ` (from ${socket.localAddress}:${socket.localPort})`);
  return socket;
}

// Ask an NTP server for the time (RFC 5905, client mode).
async function ntpTime(server: string): Promise<Date> {
  const socket = await navigator.openUDPSocket({ remoteAddress: server, remotePort: 123, dnsQueryType: 'ipv4' });
  const { readable, writable } = socket;
  if (!readable || !writable) throw new Error('an open socket has streams');
  console.log(`asking ${socket.remoteAddress}:${socket.remotePort}; multicast: ${socket.multicastController}`);
  const request = new Uint8Array(48);
  request[0] = 0x1b;               // version 3, client mode
  const writer = writable.getWriter();
  const reader = readable.getReader();
  await writer.write({ data: request });
  const { value } = await reader.read();
  writer.releaseLock();
  reader.releaseLock();
  await socket.close();
  if (!value || value.data.byteLength < 48) throw new Error('no answer');
  const seconds = new DataView(value.data.buffer, value.data.byteOffset).getUint32(40);
  return new Date((seconds - 2208988800) * 1000);  // NTP counts from 1900
}
