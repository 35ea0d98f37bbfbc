// Local discovery with SSDP (UPnP): join the group, ask who is there, collect answers for a while.
async function discoverUPnP(waitMs: number): Promise<string[]> {
  const GROUP = '239.255.255.250';
  const socket = new UDPSocket({
    localAddress: '0.0.0.0',
    localPort: 1900,
    multicastAllowAddressSharing: true,   // other programs on this computer listen on 1900 too
    multicastTimeToLive: 2,
    multicastLoopback: false,
  });
  const { readable, writable, multicastController } = await socket.opened;
  if (!multicastController) throw new Error('a bound socket always has a multicast controller');
  await multicastController.joinGroup(GROUP);
  console.log('member of', multicastController.joinedGroups);  // ["239.255.255.250"]

  const search = 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n' +
    'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n';
  const writer = writable.getWriter();
  // Sending to a group this socket joined needs no further consent.
  await writer.write({ data: new TextEncoder().encode(search), remoteAddress: GROUP, remotePort: 1900 });

  const reader = readable.getReader();
  const timer = setTimeout(() => { reader.cancel(); }, waitMs);
  const found: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = new TextDecoder().decode(value.data);
    const location = /^location:\s*(.+)$/im.exec(text);
    if (location) found.push(`${value.remoteAddress}: ${location[1].trim()}`);
  }
  clearTimeout(timer);
  await multicastController.leaveGroup(GROUP);
  reader.releaseLock();
  writer.releaseLock();
  await socket.close();
  return found;
}

// Source-specific multicast: only datagrams that one sender sends to the group.
async function followSource(socket: UDPSocket, group: string, source: string): Promise<void> {
  const controller = socket.multicastController;
  if (!controller) throw new Error('only an open, bound UDP socket has a multicast controller');
  await controller.joinGroup(group, { sourceAddress: source });
  for (const g of controller.joinedGroups) {
    console.log(typeof g === 'string' ? g : `${g.groupAddress} from ${g.sourceAddress}`);
  }
  await controller.leaveGroup(group, { sourceAddress: source });
}
