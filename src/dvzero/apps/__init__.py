"""What the commands do beyond training: :mod:`~dvzero.apps.evaluate`,
:mod:`~dvzero.apps.plot` (and the ``dvzero data`` picture), :mod:`~dvzero.apps.predict`
with :mod:`~dvzero.apps.images` (reading a photo of a digit),
:mod:`~dvzero.apps.experiments` and :mod:`~dvzero.apps.bench`."""
