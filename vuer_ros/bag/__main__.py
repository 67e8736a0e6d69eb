"""``python -m vuer_ros.bag IN -o OUT ...``: the render-bag command on its own."""

from .cli import main

main()
