"""okrbridge's Jinja2 templates, installed as the package `okrbridge_templates`.

`confluence/` holds the storage-format status pages. `okrbridge.templating.templates_root` finds
this folder in a source checkout and in an installed wheel alike.
"""
