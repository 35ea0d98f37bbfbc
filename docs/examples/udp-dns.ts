// A DNS query (type A) over a connected UDP socket, with one retry.
function dnsQuery(id: number, name: string): Uint8Array {
  const labels = name.split('.');
  const out = new Uint8Array(12 + labels.reduce((n, l) => n + l.length + 1, 1) + 4);
  const view = new DataView(out.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100);                     // recursion desired
  view.setUint16(4, 1);                          // one question
  let o = 12;
  for (const label of labels) {
    out[o++] = label.length;
    for (const ch of label) out[o++] = ch.charCodeAt(0);
  }
  out[o++] = 0;
  view.setUint16(o, 1);                          // QTYPE A
  view.setUint16(o + 2, 1);                      // QCLASS IN
  return out;
}

function dnsAddresses(b: Uint8Array): string[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 12;
  const skipName = () => {
    while (b[o] !== 0 && (b[o] & 0xc0) !== 0xc0) o += b[o] + 1;
    o += b[o] === 0 ? 1 : 2;
  };
  for (let i = 0; i < view.getUint16(4); i++) { skipName(); o += 4; }
  const found: string[] = [];
  for (let i = 0; i < view.getUint16(6); i++) {
    skipName();
    const type = view.getUint16(o);
    const length = view.getUint16(o + 8);
    o += 10;
    if (type === 1 && length === 4) found.push(Array.from(b.subarray(o, o + 4)).join('.'));
    o += length;
  }
  return found;
}

async function resolveA(resolver: string, name: string): Promise<string[]> {
  const socket = new UDPSocket({ remoteAddress: resolver, remotePort: 53, receiveBufferSize: 65536 });
  const { readable, writable } = await socket.opened;
  const reader = readable.getReader();
  const writer = writable.getWriter();
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      await writer.write({ data: dnsQuery(id, name) });  // connected mode: no address per message
      const timeout = new Promise<null>((resolve) => setTimeout(resolve, 2000, null));
      const got = await Promise.race([reader.read(), timeout]);
      if (got === null) continue;                        // lost: UDP does not retransmit for us
      if (got.done) break;
      const reply = got.value.data;
      if (new DataView(reply.buffer, reply.byteOffset).getUint16(0) === id) return dnsAddresses(reply);
    }
    throw new Error(`no answer from ${resolver}`);
  } finally {
    // Cancelling ends a read still waiting after a timeout; close() needs both streams unlocked.
    await reader.cancel().catch(() => {});
    reader.releaseLock();
    writer.releaseLock();
    await socket.close().catch(() => {});
  }
}
