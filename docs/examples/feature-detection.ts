// Feature detection, and telling the errors apart.
function socketSupport() {
  return {
    directSockets: 'TCPSocket' in globalThis,     // TCPSocket, UDPSocket, TCPServerSocket
    multicast: 'MulticastController' in globalThis,
    explainer: 'openTCPSocket' in navigator,      // navigator.openTCPSocket / openUDPSocket
  };
}

function describeSocketError(e: unknown): string {
  if (e instanceof TypeError) return `bad arguments: ${e.message}`;
  if (!(e instanceof DOMException)) return String(e);
  switch (e.name) {
    case 'NotAllowedError': return `refused by the user or the policy: ${e.message}`;
    case 'NetworkError': return `network failure: ${e.message}`;
    case 'QuotaExceededError': return `too many sockets: ${e.message}`;
    case 'InvalidStateError': return `not possible now: ${e.message}`;
    default: return `${e.name}: ${e.message}`;
  }
}

if (!socketSupport().directSockets) {
  console.log('Open this app in Socketeer to talk to your devices.');
}
