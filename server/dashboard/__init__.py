"""The township dashboard: server-rendered pages that work without JavaScript."""

from server.dashboard.account import AccountPages
from server.dashboard.admin import AdminPages
from server.dashboard.audit import AuditPages
from server.dashboard.care import CarePages
from server.dashboard.carried import CarriedPages
from server.dashboard.conflicts import ConflictPages
from server.dashboard.roster import RosterPages
from server.dashboard.shifts import ShiftPages
from server.dashboard.sites import SitePages
from server.dashboard.staff_accounts import StaffAccountPages
from server.dashboard.supplies import SupplyPages
from server.dashboard.today import TodayPages

PAGES = [AccountPages, TodayPages, ShiftPages, SupplyPages, ConflictPages, CarePages, AdminPages, CarriedPages,
         AuditPages, SitePages, RosterPages, StaffAccountPages]
