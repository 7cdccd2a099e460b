"""``dvzero serve``: draw a digit in the browser and watch a trained network read it.

:mod:`.models` finds the trained models and turns a drawing into the network's answer;
:mod:`.server` serves the page (``page/``: static HTML, CSS and JavaScript) and its API.
"""

from .models import Catalog
from .server import is_loopback, make_server, url_of

__all__ = ["Catalog", "is_loopback", "make_server", "url_of"]
