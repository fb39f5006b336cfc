// @ts-check
/** 修改: fix a refused change. Saving makes a new change and discards the refused one. */
import { promisifyRequest as req, tx } from "../db.js";
import { t } from "../i18n.js";
import { list, save } from "../outbox.js";
import { fill, h, problems, saving } from "../ui.js";
import { shiftForm } from "./shift-edit.js";
import { requestForm, supplyForm } from "./supplies.js";
import { checkinForm, injuryForm } from "./wellbeing.js";

const HOME = /** @type {Record<string, string>} */ ({ shift: "#/shifts", supply: "#/supplies", request: "#/supplies", checkin: "#/wellbeing" });

/** @param {HTMLElement} root @param {import("../app.js").Ctx} ctx @param {string} changeId */
export function mount(root, ctx, changeId) {
  (async () => {
    const change = await tx(["outbox"], "readonly", (s) => req(s.outbox.get(changeId)));
    const v = change && (await list([change.kind])).find((x) => x.id === change.entry);
    if (!change || !v || change.op !== "put") return ctx.go(HOME[change?.kind] || "#/shifts");
    const done = async (/** @type {Record<string, any>} */ fields) => {
      const saved = await saving(() => save(change.kind, change.entry, { ...v.fields, ...fields }, { replace: change.id }));
      if (saved) ctx.go(HOME[change.kind]);
      return saved;
    };
    const forms = /** @type {Record<string, Function>} */ ({
      shift: shiftForm, supply: supplyForm, request: requestForm,
      checkin: v.fields.type === "injury" ? injuryForm : checkinForm,
    });
    fill(root, h("h1", null, t("fix")), problems(v, false, false), forms[change.kind](v.fields, done));
  })();
  return {};
}
