"""Leads, the one home of the concept: exhibitor staff scan a visitor's badge at their booth into a lead, rate and
qualify it; the exhibitor lists, counts and downloads its leads.

- rules: what a booth scan carries and the checks and changes every path applies
- scanning: recording one scan or a group of them, and editing a lead (the ORM path)
- group: the group path's plain SQL for thousands of scans a second (private to leads)
"""

from .rules import MAX_NOTES, QUESTION_KINDS, REASONS, BoothScan, check_answers
from .scanning import record_lead_scans, scan_lead, scan_leads, update_lead

__all__ = ["MAX_NOTES", "QUESTION_KINDS", "REASONS", "BoothScan", "check_answers", "record_lead_scans", "scan_lead",
           "scan_leads", "update_lead"]
