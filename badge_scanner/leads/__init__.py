"""Leads, the one home of the concept: exhibitor staff scan a visitor's badge at their booth into a lead, rate and
qualify it; the exhibitor finds, counts, downloads and sums up its leads.

- rules: what a booth scan carries, and the checks and changes every path applies
- scanning: recording one scan or a group of them, and editing a lead
- group: the group path's plain SQL, for thousands of scans a second (private to leads)
- queries: the one filter and the one row of every lead list, page and file, and the visitor a lead shows
- downloads: each download kept for its user ("new since my last download") and written to the audit log
- figures: leads by rating, day and staff member, for the booth dashboard and the post-show report
"""

from .downloads import DOWNLOADED, last_download_at, record_download, user_of
from .figures import LeadFigures, lead_figures
from .queries import LeadFilter, LeadRow, count_leads, lead_rows, resolved, staff_of, timezone_of, visitor_of
from .rules import MAX_NOTES, QUESTION_KINDS, REASONS, BoothScan, check_answers
from .scanning import record_lead_scans, scan_lead, scan_leads, update_lead

__all__ = ["DOWNLOADED", "MAX_NOTES", "QUESTION_KINDS", "REASONS", "BoothScan", "LeadFigures", "LeadFilter",
           "LeadRow", "check_answers", "count_leads", "last_download_at", "lead_figures", "lead_rows",
           "record_download", "record_lead_scans", "resolved", "scan_lead", "scan_leads", "staff_of", "timezone_of",
           "update_lead", "user_of", "visitor_of"]
