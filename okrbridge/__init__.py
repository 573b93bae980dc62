"""okrbridge: OKRs and KPIs as code, kept current from Jira and graded per cycle."""

__version__ = "0.1.0"
