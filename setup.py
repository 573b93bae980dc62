"""Package layout that pyproject.toml alone cannot say: the top-level `templates/` folder ships as
the package `okrbridge_templates` (everything else is in pyproject.toml)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["okrbridge*", "connectors*", "sandbox*"]), "okrbridge_templates"],
    package_dir={"okrbridge_templates": "templates"},
)
