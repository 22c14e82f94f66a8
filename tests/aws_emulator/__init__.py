"""A local AWS for the sync tests: moto in server mode, a SageMaker fake, a faulting front.

See :mod:`tests.aws_emulator.server` for the layout and :mod:`tests.aws_emulator.seed` for the
sample account. Tests build clients exactly as production does, with ``endpoint_url`` set to
:attr:`Emulator.endpoint_url`.
"""

from tests.aws_emulator.server import Call, Emulator, Faults, running_emulator

__all__ = ["Call", "Emulator", "Faults", "running_emulator"]
