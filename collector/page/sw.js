// The residents' page without a network (issue 31): the page, its files and its last config are kept here and
// served when the network does not answer, so a "no signal" report can be made where there is no signal.
// Online, every file comes from the network first (a new release is seen at once); POSTs and other origins
// (the test servers) are never touched.
"use strict";

const CACHE = "dokiem-do-v1";
const PAGE = ["/do/", "/do/static/do.js", "/do/static/nosignal.js", "/do/static/h3.js", "/do/static/do.css",
  "/do/static/icon.svg", "/do/static/manifest.webmanifest", "/do/config?lang=vi", "/do/config?lang=en"];
const WAIT_MS = 4000;  // "signal but no data": a request that never answers is no network either

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PAGE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function kept(request) {
  const url = new URL(request.url);
  return request.method === "GET" && url.origin === self.location.origin && url.pathname.startsWith("/do/")
    && url.pathname !== "/do/sw.js";
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await Promise.race([fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("no answer")), WAIT_MS))]);
    if (answer.ok) await cache.put(request, answer.clone());
    return answer;
  } catch (error) {
    const found = await cache.match(request, { ignoreSearch: new URL(request.url).pathname !== "/do/config" });
    if (found) return found;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  if (kept(event.request)) event.respondWith(networkFirst(event.request));
});
