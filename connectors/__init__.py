"""The real adapters to the outside systems (Jira today; Confluence comes with publishing).

Nothing in this package imports okrbridge: connectors take and return plain data.
"""
