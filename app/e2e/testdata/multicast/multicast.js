// End-to-end multicast test page: a bound UDP socket joins a group, receives a datagram sent to it,
// leaves, and then receives only the unicast marker the test sends after a second group datagram.
'use strict';

const GROUP = new URLSearchParams(location.search).get('group');

async function step(text) {
  await fetch('/step', { method: 'POST', body: text });
}
async function outcome(p) {
  try { await p; return 'ok'; } catch (e) { return errInfo(e); }
}

(async () => {
  const out = {};
  try {
    await gesture();
    const sock = new UDPSocket({ localAddress: '0.0.0.0', multicastTimeToLive: 1, multicastLoopback: true });
    const info = await sock.opened;
    const mc = info.multicastController;
    out.notMulticast = await outcome(mc.joinGroup('192.0.2.1'));
    out.join = await outcome(mc.joinGroup(GROUP));
    out.joinTwice = await outcome(mc.joinGroup(GROUP));
    out.joinedGroups = Array.from(mc.joinedGroups);
    const reader = info.readable.getReader();
    await step('joined ' + info.localPort);
    const first = await reader.read();
    out.first = new TextDecoder().decode(first.value.data);
    out.leave = await outcome(mc.leaveGroup(GROUP));
    out.leaveTwice = await outcome(mc.leaveGroup(GROUP));
    out.joinedAfterLeave = Array.from(mc.joinedGroups);
    await step('left');
    const second = await reader.read();
    out.second = new TextDecoder().decode(second.value.data);
    reader.releaseLock();
    await sock.close();
    out.joinedAfterClose = Array.from(mc.joinedGroups);
    out.joinAfterClose = await outcome(mc.joinGroup(GROUP));
  } catch (e) {
    out.fatal = errInfo(e);
  }
  await report(out);
})();
