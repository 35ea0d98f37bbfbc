// Reports what this profile remembered from an earlier run, then remembers something.
'use strict';
const before = { local: localStorage.getItem('k'), cookie: document.cookie };
localStorage.setItem('k', 'remembered');
document.cookie = 'c=remembered; Max-Age=3600; Secure; SameSite=Strict';
fetch('/result', { method: 'POST', body: JSON.stringify(before) });
