"""okrbridge: OKRs and KPIs as code, kept current from Jira, graded and published to Confluence."""

__version__ = "0.1.0"
