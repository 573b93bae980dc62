"""okrbridge: OKRs and KPIs as code, kept current from Jira and published to Confluence."""

__version__ = "0.1.0"
