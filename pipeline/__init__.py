"""gatewatch: unregistered entries at school gates, from camera footage."""

__version__ = "0.1.0"
