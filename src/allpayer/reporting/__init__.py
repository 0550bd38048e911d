"""Reports from a run: kinds (``kinds``), built format-free (``builders.build``), rendered as HTML, PDF or XLSX
(``render.write``). Rendering needs the ``reports`` extra; this package imports nothing heavy by itself."""
