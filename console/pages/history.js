// History: one customer's events as a timeline: what happened, who, when, each field old → new.
import { call, formatTime } from "../api.js";
import { el, field, notice, showPage } from "../ui.js";

const kWords = { created: "Created", edited: "Edited", deleted: "Deleted", undeleted: "Undeleted", purged: "Purged" };

export async function renderHistory(session, number) {
  const input = field("history-number", "Customer number", { inputmode: "numeric", value: number ?? "", required: true });
  const form = el("form", { class: "toolbar" }, input.wrapper, el("button", { type: "submit" }, "Show history"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = input.input.value.trim();
    if (wanted) location.hash = `#/history/${encodeURIComponent(wanted)}`;
  });
  const area = el("div", {});
  showPage(number ? `History of customer ${number}` : "History", form, area);
  if (!number) {
    input.input.focus();
    return;
  }
  const { response } = await call({ history: { number } });
  if (response.error) {
    area.replaceChildren(notice(response.error.message, "error"));
    return;
  }
  const events = response.history.events ?? [];
  area.replaceChildren(
    el(
      "ol",
      { class: "timeline", "aria-label": `Events of customer ${number}` },
      events.map((event) =>
        el(
          "li",
          {},
          el("p", { class: "event" }, el("strong", {}, kWords[event.eventKind] ?? event.kind), ` by ${event.actor}, `,
            el("time", { datetime: new Date(Number(BigInt(event.at) / 1000n)).toISOString() }, formatTime(event.at)),
            ` (seq ${event.seq})`),
          (event.changedFields ?? []).length
            ? el("ul", { class: "changes" }, event.changedFields.map((change) =>
                el("li", {}, el("span", { class: "field-name" }, `${change.field}: `),
                  el("span", { class: "old" }, change.oldValue === "" ? "(empty)" : change.oldValue),
                  " → ",
                  el("span", { class: "new" }, change.newValue === "" ? "(empty)" : change.newValue))))
            : null,
        ),
      ),
    ),
  );
}
