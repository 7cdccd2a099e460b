"""The package build compiles the message catalogs: each ``src/dvzero/locale/*/LC_MESSAGES/
*.po`` (the translations, written by people) becomes the ``.mo`` beside it (read by gettext),
for wheels and editable installs alike. Everything else is in pyproject.toml."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).parent / "src" / "dvzero" / "locale"


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
            with open(po, "rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with open(po.with_suffix(".mo"), "wb") as compiled:
                write_mo(compiled, catalog)
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogs})
