"""Jinja filters: times in the deployment's zone, labels in Chinese."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync.entries import KINDS

LABELS = {
    "day": "白班", "night": "夜班", "on_call": "备勤",
    "pending": "待审核", "approved": "审核通过", "returned": "退回修改",
    "shift": "值班", "supply": "物资", "request": "申领", "checkin": "关怀打卡", "followup": "回访",
    "post": "岗位", "start": "开始", "end": "结束", "kind": "班次", "note": "备注", "quantity": "数量",
    "deleted": "删除", "item": "物品", "unit": "单位", "movement": "类型", "at": "时间", "status": "状态",
    "type": "类型", "injury": "受伤或暴露",
    "received": "入库", "used": "使用", "issued": "发放", "transferred": "调拨", "stocktake": "盘点",
    "open": "待处理", "delivered": "已发放", "declined": "未批准",
    "worker": "社区工作者", "lead": "站点负责人", "staff": "镇街工作人员", "care": "关怀专员", "admin": "管理员",
}


def make_filters(timezone: str) -> dict[str, Any]:
    tz = ZoneInfo(timezone)

    def when(moment: datetime | int | None) -> str:
        if moment is None:
            return ""
        if isinstance(moment, int):
            moment = datetime.fromtimestamp(moment / 1000, tz)
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def field_value(value: Any, kind: str, field: str) -> str:
        if field == "deleted":
            return "删除此条" if value else "保留此条"
        if value is None:
            return "（空）"
        if isinstance(value, bool):
            return "是" if value else "否"
        if field in KINDS[kind].time_fields and isinstance(value, int):
            return when(value)
        return LABELS.get(value, str(value)) if isinstance(value, str) else str(value)

    def stamp_time(stamp: str) -> str:
        return when(int(stamp[:13]))

    def label(value: str) -> str:
        return LABELS.get(value, value)

    def qty(number: float) -> str:
        return f"{number:,.2f}".rstrip("0").rstrip(".")  # 1,200 and 2.5, not 1200.0

    return {"when": when, "field_value": field_value, "stamp_time": stamp_time, "label": label, "qty": qty}
