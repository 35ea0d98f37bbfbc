// The foreign page TestHostileNavigation tries to open in the site window. If it ever runs, its
// request for this script is counted by the test's server, and it reports whether it got the API.
'use strict';
fetch(`/ran?api=${typeof TCPSocket}`).catch(() => {});
