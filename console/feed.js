// The live feed (GET /api/v1/feed, a WebSocket; docs/http.md): one subscribe request as JSON,
// then one protocol Response as JSON per message ({subscribed}, then {entry} per log entry).
// A refused upgrade (no session, another Origin) closes before opening: the state says "unavailable".

// Opens the feed from `fromSeq`; calls onEntry(entry) per entry and onState(state, detail) with
// "connecting", "live", "unavailable", "closed" or "error". Returns a function that closes it.
export function openFeed(fromSeq, { onEntry, onState }) {
  const url = new URL("/api/v1/feed", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  let socket;
  try {
    socket = new WebSocket(url);
  } catch (error) {
    onState("unavailable", error.message);
    return () => {};
  }
  let opened = false;
  let closedByUs = false;
  onState("connecting");
  socket.addEventListener("open", () => {
    opened = true;
    socket.send(JSON.stringify({ id: "1", subscribe: { fromSeq: String(fromSeq) } }));
  });
  socket.addEventListener("message", (message) => {
    let response;
    try {
      response = JSON.parse(message.data);
    } catch {
      return;
    }
    if (response.subscribed !== undefined) onState("live");
    else if (response.entry) onEntry(response.entry);
    else if (response.error) onState("error", response.error.message);
  });
  socket.addEventListener("close", () => {
    if (closedByUs) return;
    onState(opened ? "closed" : "unavailable");
  });
  return () => {
    closedByUs = true;
    socket.close();
  };
}
