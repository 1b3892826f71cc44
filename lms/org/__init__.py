"""The organisation: agencies, officers and what they are responsible for.

A province's agencies form a tree of any depth (province -> departments, boards, communes,
socio-political organisations, press agencies -> their units). Each agency keeps a stable ``code`` that
HR spreadsheets use, and a materialised ``path`` ("/1/7/42/") so that "this agency and everything under
it" is one indexed prefix match, which HR scopes and reports rely on. Users are officers first: every
account belongs to an agency, carries designated duties (spokesperson, human-rights work ...) that
training plans target, and holds one or more roles (officer, trainer, hr, admin).
"""
