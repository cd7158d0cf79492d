"""The check report (``model``) and its renderings: ``text``, ``markup`` (Markdown, JUnit), ``sarif``;
``render`` picks one by format. Renderers import the model, never the reverse."""
