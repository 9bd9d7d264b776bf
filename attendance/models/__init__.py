"""All models, imported here so that the metadata is complete for Alembic and the tests."""

from attendance.models.audit import AuditEntry
from attendance.models.badges import Badge
from attendance.models.chain import ChainHead
from attendance.models.deployment import Deployment
from attendance.models.checks import SpotCheck, SpotCheckFinding
from attendance.models.excuses import Excuse, ExcuseDecision
from attendance.models.feedback import ServiceFeedback
from attendance.models.findings import DailyFinding, FindingDay, StaleFinding
from attendance.models.mail import MailDelivery
from attendance.models.org import Employee, OrgVersion, Unit
from attendance.models.reports import IssuedReport
from attendance.models.scans import NoBadgeRecord, Scan, Station
from attendance.models.users import User

__all__ = [
    "AuditEntry", "Badge", "ChainHead", "DailyFinding", "Deployment", "Employee", "Excuse",
    "ExcuseDecision", "FindingDay", "IssuedReport", "MailDelivery", "NoBadgeRecord",
    "OrgVersion", "Scan", "ServiceFeedback", "SpotCheck", "SpotCheckFinding", "StaleFinding",
    "Station", "Unit", "User",
]
