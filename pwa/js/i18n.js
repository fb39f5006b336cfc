// @ts-check
/**
 * Words on screen, zh-CN first and English second, and Intl formatting in the chosen locale
 * (the device's time zone). The choice is kept in localStorage (read before the database
 * opens, so the first paint is in the right language) and in meta `lang`.
 */

/** @typedef {"zh-CN"|"en"} Lang */

const LS_KEY = "nuanxin.lang";

/** key: [zh-CN, English]. `{name}` is filled from params. */
const WORDS = {
  app: ["暖心", "Nuanxin"],
  colon: ["：", ": "],
  paren: ["（{x}）", " ({x})"],
  // urgent reports by SMS (js/sms-offer.js)
  sms_send: ["用短信发送", "Send by SMS"],
  sms_waited: ["没有网络，这条紧急上报已等了 {n} 分钟以上，可以用短信发出。", "No data connection for over {n} min: this urgent report can go by SMS."],
  sms_then: ["短信会打开并写好，点发送即可；下次同步时会显示已送达。", "Your SMS app opens with the message written; tap send. The next sync shows that it arrived."],
  sms_too_long: ["这条上报太长，一条短信装不下；有网络后会自动发送。", "Too long for one SMS; it is sent when the data connection is back."],
  sms_arrived: ["已由短信送达", "Arrived by SMS"],
  skip: ["跳到正文", "Skip to content"],
  nav_label: ["主菜单", "Main menu"],
  nav_shifts: ["值班", "Shifts"],
  nav_supplies: ["物资", "Supplies"],
  nav_wellbeing: ["关怀", "Wellbeing"],
  nav_me: ["我的", "Me"],
  sync_now: ["立即同步", "Sync now"],
  syncing: ["正在同步…", "Syncing…"],
  offline: ["离线", "Offline"],
  pending_n: ["{n} 条待同步", "{n} waiting to sync"],
  rejected_n: ["{n} 条未通过", "{n} not accepted"],
  all_synced: ["全部已同步", "All synced"],
  last_sync: ["上次同步：{t}", "Last synced {t}"],
  never_synced: ["尚未同步", "Not synced yet"],
  just_now: ["刚刚", "just now"],
  sync_failed: ["同步失败，稍后自动重试", "Sync failed; will retry"],
  update_app: ["请更新应用", "Please update the app"],
  new_version: ["新版本可用", "A new version is available"],
  update: ["更新", "Update"],
  install: ["添加到主屏幕", "Add to home screen"],
  install_why: ["添加后没有信号也能从主屏幕打开", "Then it opens from the home screen, even with no signal"],
  install_ios: ["点击分享按钮，再选“添加到主屏幕”", "Tap the Share button, then “Add to Home Screen”"],
  later: ["以后再说", "Not now"],
  version: ["版本", "Version"],
  // sync states
  st_local: ["待同步", "Waiting to sync"],
  st_local_new: ["仅保存在本机", "Saved on this phone only"],
  st_synced: ["已同步", "Synced"],
  st_rejected: ["未通过", "Not accepted"],
  st_conflict: ["待核对", "Needs review"],
  conflict_hint: ["与其他人的修改有冲突，镇街工作人员会核对", "Conflicts with another edit; township staff will review it"],
  fix: ["修改", "Fix"],
  discard: ["放弃", "Discard"],
  confirm_discard: ["确认放弃？", "Discard it?"],
  cancel: ["取消", "Cancel"],
  save: ["保存", "Save"],
  delete: ["删除", "Delete"],
  confirm_delete: ["确认删除？", "Delete it?"],
  edit: ["编辑", "Edit"],
  note: ["备注", "Note"],
  saved: ["已保存", "Saved"],
  deleted: ["已删除", "Deleted"],
  discarded: ["已放弃", "Discarded"],
  not_saved: ["没有保存！本机存储空间可能已满。请清理手机空间，或在“我的”里导出我的数据，然后再试一次。", "NOT saved! This phone's storage may be full. Free some space, or export your data (Me → Export my data), then try again."],
  not_saved_status: ["有记录没有保存", "Something was not saved"],
  go_me: ["去导出", "Export now"],
  no_store: ["这个浏览器不能在本机保存记录，所以暖心无法使用。请不要用无痕（隐私）模式，清理手机空间，或换用系统自带的浏览器后再打开。", "This browser cannot keep entries on this phone, so Nuanxin cannot work here. Do not use a private (incognito) window; free some space, or open the app in the phone's own browser."],
  offline_sync: ["现在离线，联网后会自动同步", "Offline now: it syncs by itself once there is a connection"],
  // enrol
  enrol_title: ["激活本机", "Set up this phone"],
  enrol_help: ["请输入镇街工作人员给你的激活码（12 位数字和字母，不分大小写）。激活需要联网。", "Enter the enrolment code township staff gave you (12 letters and digits, any case). This needs a connection."],
  enrol_code: ["激活码", "Enrolment code"],
  enrol_submit: ["激活", "Activate"],
  enrol_again: ["此设备已失效，请向镇街工作人员索取新的激活码。本机上的记录会保留。", "This phone was signed out. Ask township staff for a new enrolment code; your entries on this phone are kept."],
  enrol_bad: ["激活码无效或已被使用", "The enrolment code is wrong or already used"],
  enrol_busy: ["尝试次数过多，请稍后再试", "Too many tries; please wait a moment"],
  no_site: ["您还没有分配站点，暂时不能记录值班、物资和打卡。请联系镇街为您分配站点。", "You have no site yet, so shifts, supplies and check-ins cannot be recorded here. Please ask your township to assign you a site."],
  other_person: ["这个激活码属于{new}。本机还有 {n} 条{old}的记录没有同步，不能换人激活，以免这些记录算到别人名下。请先用{old}的账号同步，或导出数据，再向镇街索取新的激活码。", "This enrolment code is for {new}. This phone still holds {n} unsynced entries of {old}; they must not be sent as someone else's. Sync them first as {old}, or export them, then ask your township for a new enrolment code."],
  someone_else: ["另一个人", "someone else"],
  pending_of: ["本机还有 {n} 条{name}的记录没有同步。换人激活前，请先同步或导出。", "This phone still holds {n} unsynced entries of {name}. Sync or export them before someone else activates it."],
  need_network: ["没有网络，请联网后再试", "No connection; try again when online"],
  // shifts
  shifts_title: ["值班", "Shifts"],
  post: ["值守点 / 岗位", "Post"],
  kind: ["班次", "Shift type"],
  k_day: ["白班", "Day"],
  k_night: ["夜班", "Night"],
  k_on_call: ["备勤", "On call"],
  start_shift: ["开始值班", "Start shift"],
  end_shift: ["结束值班", "End shift"],
  on_duty: ["值班中：{post}", "On duty: {post}"],
  elapsed: ["已值班 {t}", "On duty for {t}"],
  recent_shifts: ["近期班次", "Recent shifts"],
  no_shifts: ["还没有班次记录", "No shifts yet"],
  add_past: ["补录班次", "Add a past shift"],
  edit_shift: ["编辑班次", "Edit shift"],
  start: ["开始时间", "Start"],
  end: ["结束时间", "End"],
  open_end: ["（值班中）", "(on duty)"],
  ap_approved: ["审核通过", "Approved"],
  ap_returned: ["退回修改", "Returned"],
  ap_review_again: ["时间有改动，待重新审核", "Times changed; waiting for review again"],
  ap_edit_warning: ["这个班次已审核通过。改开始或结束时间后，需要镇街重新审核，审核前不计入补助。", "This shift is approved. If you change its start or end, the township must review it again; until then it is not paid."],
  staff_times: ["时间已由镇街更正", "Times corrected by the township"],
  clock_fixed: ["手机时间不准，已按服务器时间校正", "The phone clock was off; times were corrected"],
  rest_title: ["休息", "Rest"],
  rest_ok: ["作息正常", "Your rest looks fine"],
  rest_days: ["已连续 {n} 天值班", "{n} days in a row on duty"],
  rest_long: ["您已连续在岗 {t}，超过 {h} 小时了。方便时请交班休息。", "You have been on duty for {t}, over {h} hours. When you can, hand over and rest."],
  rest_short: ["最近两个班次之间只休息了 {t}，不到 {h} 小时。请尽量多休息。", "Only {t} of rest between your last two shifts, under {h} hours. Try to rest longer."],
  rest_many: ["已连续 {n} 天有班次，没有休息日。可以和负责人商量安排轮休。", "{n} days in a row with a shift and no day off. You can ask your lead for a day off."],
  subsidy_title: ["本月预计工作补助", "Estimated work subsidy this month"],
  subsidy_hint: ["按已审核通过的 {h} 小时估算，以镇街发放为准", "From {h} approved hours; the township's sheet is what is paid"],
  hours_min: ["{h}小时{m}分", "{h} h {m} min"],
  // supplies
  supplies_title: ["防护物资", "Protective supplies"],
  stock: ["库存", "Stock on hand"],
  days_left: ["可用天数", "Days left"],
  about_days: ["约 {n} 天", "about {n} days"],
  no_use: ["近期未使用", "no recent use"],
  stock_note: ["含本机尚未同步的记录；可用天数按近 {n} 天的用量估算（记录不满 {n} 天按实际天数）", "Includes this phone's records not yet synced; days left at the last {n} days' rate of use (or the records' age when younger)"],
  no_stock: ["还没有物资记录", "No supply records yet"],
  stock_unsynced: ["含 {n} 条未同步", "incl. {n} not yet synced"],
  record_movement: ["登记物资", "Record a movement"],
  item: ["物资", "Item"],
  movement: ["类型", "Movement"],
  m_received: ["入库", "Received"],
  m_used: ["使用", "Used"],
  m_issued: ["发放", "Issued"],
  m_transferred: ["调拨", "Transferred"],
  m_stocktake: ["盘点", "Stocktake"],
  quantity: ["数量", "Quantity"],
  to_site: ["调往站点（编号）", "To site (code)"],
  movements: ["近期登记", "Recent movements"],
  request_title: ["申领物资", "Request more"],
  urgent: ["紧急", "Urgent"],
  request_submit: ["提交申领", "Send request"],
  requests: ["我的申领", "Requests"],
  rq_open: ["待处理", "Open"],
  rq_approved: ["已批准", "Approved"],
  rq_delivered: ["已送达", "Delivered"],
  rq_declined: ["未批准", "Declined"],
  // wellbeing
  wellbeing_title: ["每日关怀打卡", "Daily check-in"],
  fatigue: ["疲劳程度", "Fatigue"],
  fatigue_hint: ["1 精神好 · 5 非常累", "1 fresh · 5 exhausted"],
  sleep: ["睡眠时长（小时）", "Hours slept"],
  mood: ["心情", "Mood"],
  mood_hint: ["1 很差 · 5 很好", "1 very low · 5 very good"],
  ate: ["按时就餐", "Had a proper meal"],
  rested: ["有休息场所", "Had a place to rest"],
  yes: ["是", "Yes"],
  no: ["否", "No"],
  talk: ["希望有人聊聊（申请心理疏导）", "I'd like someone to talk to"],
  checkin_submit: ["提交打卡", "Check in"],
  injury_title: ["工作中受伤或暴露", "Injury or exposure at work"],
  injury_kind: ["情况", "What happened"],
  ik_injury: ["受伤", "Injury"],
  ik_exposure: ["暴露", "Exposure"],
  injury_submit: ["紧急上报", "Report now"],
  checkin_empty: ["还没有回答任何问题。请至少回答一项再提交。", "Nothing is answered yet. Answer at least one question, then check in."],
  injury_jump: ["工作中受伤或暴露？立即上报", "Hurt or exposed at work? Report it now"],
  history: ["我的记录", "My history"],
  no_history: ["还没有打卡记录", "No check-ins yet"],
  followup: ["回访", "Follow-up"],
  next_step: ["下一步", "Next step"],
  checkin_line: ["疲劳 {f} · 睡眠 {s} 小时 · 心情 {m}", "Fatigue {f} · slept {s} h · mood {m}"],
  talk_yes: ["希望有人聊聊", "Wants to talk"],
  // me
  me_title: ["我的", "Me"],
  person: ["姓名", "Name"],
  site: ["站点", "Site"],
  device: ["设备编号", "Device"],
  language: ["语言", "Language"],
  lang_other: ["English", "中文"],
  data_used: ["本月同步流量：{n}", "Sync data this month: {n}"],
  my_data: ["本机数据", "Data on this phone"],
  export: ["导出我的数据", "Export my data"],
  import: ["导入数据文件", "Import a data file"],
  imported: ["已导入 {a} 条，跳过重复 {b} 条", "Imported {a}, skipped {b} duplicates"],
  import_other: ["这个文件是{name}的数据，不能导入本机", "This file holds {name}'s data; it cannot be imported here"],
  import_bad: ["无法读取这个文件", "Cannot read this file"],
  re_enrol: ["重新激活本机", "Set up this phone again"],
  confirm_re_enrol: ["确认重新激活？本机记录会保留", "Set up again? Entries on this phone are kept"],
  phones_title: ["本人的手机", "My phones"],
  phones_offline: ["联网后显示本人登记过的手机", "Your enrolled phones show when online"],
  this_phone: ["本机", "this phone"],
  phone_revoked: ["已停用", "revoked"],
  new_phone: ["{when} 有一部新手机（{id}）用您的名字登记了。如果是您本人，不用处理；如果不是，请马上请镇街停用它。新手机只能看到登记之后的关怀打卡。", "A new phone ({id}) was enrolled in your name on {when}. If it was you, there is nothing to do; if not, ask your township to revoke it now. A new phone sees only check-ins made after it was enrolled."],
  storage_persist: ["已申请长期保存本机数据", "Local data is kept persistently"],
  // field names for errors
  f_end: ["结束时间", "End"],
  f_start: ["开始时间", "Start"],
  f_post: ["岗位", "Post"],
  f_quantity: ["数量", "Quantity"],
  f_to_site: ["调往站点", "To site"],
  f_injury_kind: ["情况", "What happened"],
  f_site: ["站点", "Site"],
  // server error codes
  e_end_before_start: ["结束时间早于开始时间", "The shift ends before it starts"],
  e_in_future: ["时间晚于现在，请检查时间和手机时钟", "This time is later than now; check it and the phone's clock"],
  e_required: ["此项必填", "This is required"],
  e_no_answer: ["还没有回答任何问题", "No question is answered"],
  e_invalid: ["填写的内容不符合要求", "This value is not valid"],
  e_unknown_field: ["应用版本与服务器不一致，请更新应用", "App and server disagree; please update the app"],
  e_staff_only: ["只有镇街工作人员可以修改此项", "Only township staff may change this"],
  e_immutable: ["物资记录不能修改，请删除后重新登记", "A movement cannot be changed; delete it and record it again"],
  e_forbidden: ["没有权限进行此操作", "You may not do this"],
  e_site: ["不属于你所在的站点", "Not your site"],
  e_own_site: ["不能调拨给本站点，请选择镇街里的另一个站点", "A transfer goes to another site of your township"],
  e_taken: ["这条记录的编号已被占用，请重新登记", "This record's id is taken; please record it again"],
  e_schema: ["应用版本太旧，请更新应用", "The app is too old for this record; please update it"],
  e_unknown_kind: ["应用版本与服务器不一致，请更新应用", "App and server disagree; please update the app"],
};

/** @typedef {keyof typeof WORDS} Key */

/** @type {Lang} */
let lang = localStorage.getItem(LS_KEY) === "en" ? "en" : "zh-CN";

export function getLang() { return lang; }

/** @param {Lang} value */
export function setLang(value) {
  lang = value;
  localStorage.setItem(LS_KEY, value);
  document.documentElement.lang = value;
}

/**
 * @param {Key} key @param {Record<string, any>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const pair = WORDS[key];
  let text = pair ? pair[lang === "en" ? 1 : 0] : String(key);
  if (params) text = text.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
  return text;
}

/** @param {string} key */
export function has(key) { return key in WORDS; }

/** A server error `{field, code, reason}` as a sentence in the chosen language. */
export function errorText(/** @type {{field?: string, code?: string, reason?: string}} */ err) {
  const code = `e_${err.code}`;
  const text = has(code) ? t(/** @type {Key} */ (code)) : err.reason || t("e_invalid");
  const name = (err.field || "").split(".").pop() || "";
  const fieldKey = `f_${name}`;
  return has(fieldKey) ? `${t(/** @type {Key} */ (fieldKey))}${t("colon")}${text}` : text;
}

/** @param {number} ms */
export function fmtDateTime(ms) {
  return new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(ms);
}

/** @param {number} ms */
export function fmtTime(ms) {
  return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }).format(ms);
}

/** @param {number} n @param {number} [digits] */
export function fmtNumber(n, digits = 1) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n);
}

/** Yuan in the chosen locale: "¥1,234.50". @param {number} n @param {string} currency */
export function fmtMoney(n, currency) {
  return new Intl.NumberFormat(lang, { style: "currency", currency }).format(n);
}

/** @param {number} bytes */
export function fmtBytes(bytes) {
  const [n, unit] = bytes >= 1048576 ? [bytes / 1048576, "megabyte"] : [bytes / 1024, "kilobyte"];
  return new Intl.NumberFormat(lang, { style: "unit", unit, maximumFractionDigits: 1 }).format(n);
}

/** "2小时前" / "2 hours ago". @param {number} ms @param {number} now */
export function fmtAgo(ms, now) {
  const s = Math.round((now - ms) / 1000);
  if (s < 60) return t("just_now");
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "always" });
  if (s < 3600) return rtf.format(-Math.floor(s / 60), "minute");
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), "hour");
  return rtf.format(-Math.floor(s / 86400), "day");
}

/** @param {number} ms */
export function fmtDuration(ms) {
  const m = Math.max(0, Math.floor(ms / 60000));
  return t("hours_min", { h: Math.floor(m / 60), m: m % 60 });
}
