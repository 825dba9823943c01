// One merge: its progress live from the event stream (phase, step, the objective drawn as it falls, time left),
// cancel; once it has succeeded the accuracy table beside the baselines, the λ heatmap, the objective curve, the
// downloads and the model card.
import { api, follow } from "./api.js";
import { age, busy, duration, h, say } from "./dom.js";
import { lineChart } from "./charts.js";
import { results } from "./merge-results.js";

const FINISHED = ["succeeded", "failed", "cancelled"];

function live(merge, status) {
  const phase = h("span", { id: "phase" }, merge.progress.phase || merge.status);
  const step = h("span", { id: "step" }, String(merge.progress.step));
  const total = h("span", { id: "total-steps" }, String(merge.progress.totalSteps || "?"));
  const objective = h("span", { id: "objective" }, merge.progress.objective?.toFixed(4) ?? "–");
  const remaining = h("span", { id: "remaining" }, duration(merge.progress.estimatedRemainingSeconds) || "–");
  const bar = h("progress", { id: "step-progress", max: merge.progress.totalSteps || 1, value: merge.progress.step, "aria-label": "steps done" });
  const chart = lineChart([]);
  const log = h("ol", { class: "events", "aria-label": "events" });
  const element = h("section", { id: "live", "aria-labelledby": "live-title" },
    h("h2", { id: "live-title" }, "Progress"),
    h("dl", { class: "facts" },
      h("dt", {}, "Phase"), h("dd", {}, phase),
      h("dt", {}, "Step"), h("dd", {}, step, " of ", total, " ", bar),
      h("dt", {}, "Objective (mean entropy)"), h("dd", {}, objective),
      h("dt", {}, "Time left"), h("dd", {}, remaining)),
    h("figure", {}, chart.element, h("figcaption", {}, "Objective per step, as it falls")),
    h("h3", {}, "Events"), log);
  const points = [];
  let pace = null; // [first step seen, its time]: the time left extrapolates the pace since then
  const onEvent = (type, e) => {
    if (["started", "resumed", "retried", "phase", "objective"].includes(type)) { status.textContent = "running"; status.className = "status running"; }
    log.prepend(h("li", { class: type }, h("time", { datetime: e.at }, new Date(e.at).toLocaleTimeString()), ` ${e.message}`));
    if (e.phase) phase.textContent = e.phase;
    if (type === "started" || type === "retried" || type === "resumed") pace = null;
    // Later phases (evaluate, write) report step 0: the counter keeps the optimisation's last step.
    const restarted = type === "started" || type === "retried";
    if (e.step !== null && e.step !== undefined && (type === "objective" || restarted || e.step > Number(step.textContent))) {
      step.textContent = String(e.step);
      bar.value = e.step;
      if (e.totalSteps) { total.textContent = String(e.totalSteps); bar.max = e.totalSteps; }
      const now = Date.parse(e.at);
      if (!pace || e.step < pace[0]) pace = [e.step, now];
      else if (e.step > pace[0] && bar.max > e.step) remaining.textContent = duration(((now - pace[1]) / 1000 / (e.step - pace[0])) * (bar.max - e.step));
    }
    if (type === "objective" && e.objective !== null) {
      objective.textContent = e.objective.toFixed(4);
      points.push([e.step, e.objective]);
      chart.update(points);
    }
  };
  return { element, onEvent };
}

export async function mergePageView(root, navigate, id) {
  const controller = new AbortController();
  const render = async () => {
    const merge = await api(`/merges/${id}`);
    const message = h("p", { class: "message", role: "alert", hidden: true });
    const cancel = h("button", { type: "button", class: "danger", id: "cancel" }, "Cancel merge");
    const status = h("span", { class: `status ${merge.status}`, id: "status" }, merge.status);
    cancel.addEventListener("click", () => busy(cancel, message, async () => {
      await api(`/merges/${id}/cancel`, { method: "POST" });
    }));
    const header = h("header", { class: "merge-header" },
      h("h1", {}, `Merge ${merge.metadata?.name || id.slice(0, 8)}`),
      h("p", {}, status, ` ${merge.method}`,
        merge.request?.options?.granularity ? ` (${merge.request.options.granularity}-wise)` : "",
        ` over ${merge.request?.tasks?.length ?? "?"} tasks, created ${age(merge.createdAt)}`,
        merge.finishedAt && merge.startedAt ? `, ran ${duration((Date.parse(merge.finishedAt) - Date.parse(merge.startedAt)) / 1000)}` : ""),
      h("p", { class: "id" }, id));
    if (!FINISHED.includes(merge.status)) {
      const progress = live(merge, status);
      root.replaceChildren(header, cancel, message, progress.element);
      // Followed in the background until the merge ends (then shown as it ended) or the person leaves the page.
      follow(`/merges/${id}/events/stream`, progress.onEvent, controller.signal)
        .then(() => controller.signal.aborted ? undefined : render())
        .catch(e => controller.signal.aborted ? undefined : say(message, e.describe ? e.describe() : String(e), "error"));
      return;
    }
    const parts = [header];
    if (merge.status === "failed") parts.push(h("p", { class: "message error", role: "alert", id: "failure" }, `Failed: ${merge.error}`));
    if (merge.status === "cancelled") parts.push(h("p", { class: "message", id: "cancelled" }, "Cancelled."));
    if (merge.status === "succeeded") parts.push(await results(merge));
    const remove = h("button", { type: "button", class: "danger" }, "Delete merge");
    remove.addEventListener("click", () => busy(remove, message, async () => {
      if (!confirm("Delete this merge and its results?")) return;
      await api(`/merges/${id}`, { method: "DELETE" });
      navigate("#/merges");
    }));
    root.replaceChildren(...parts, h("p", {}, remove, message));
  };
  await render();
  return () => controller.abort();
}
