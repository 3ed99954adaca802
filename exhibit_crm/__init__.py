"""exhibit-crm: the CRM a trade-exhibition organiser runs its show on."""

__version__ = "0.1.0"
