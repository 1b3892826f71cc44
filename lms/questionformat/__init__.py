"""The question format: what a question is, its types, and the files trainers bring them in.

Below both the catalog (which reads the banks shipped next to a course's lessons) and the quizzes (which
import banks on the web, take attempts and grade them), and importing neither, so the content loader
and the quiz engine share one reading of a question without a package cycle. Everything here takes
plain data and returns plain data, with no Flask request and no database:

- ``questions.py``: the ``Question`` value, its answers and its JSON form;
- ``qtypes/``: one module per question type, registered in one table (``qtypes.TABLE``);
- ``gift.py``, ``aiken.py``, ``moodlexml.py``: Moodle's interchange formats, read and written;
- ``formats.py``: per-answer text formats (``[plain]``, ``[html]``, ``[markdown]``, ``[moodle]``).
"""
