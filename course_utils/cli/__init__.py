"""The course's command lines; the Makefile calls them, no notebook imports them.

Each is run as ``python -m course_utils.cli.<name>``:

* ``train``: fine-tune the course's model (one task, or several with ``--task``); also under
  ``torchrun --nproc_per_node=N -m course_utils.cli.train ...``;
* ``check_env``: OK/FAIL per requirement, with the fix for each FAIL (``make setup``);
* ``notebooks``: ``course`` runs every notebook headless into ``build/`` (``make course``),
  ``student`` writes the student copies (``make student``);
* ``vader``: ``fetch`` the VADER files once, online (``make data``), or report their ``status``;
* ``slides``: apply the teaching metadata rules to the notebooks (``--check`` only reports).

This package imports none of them (``python -m`` would warn if it had), and
``import course_utils`` does not import this package.
"""
