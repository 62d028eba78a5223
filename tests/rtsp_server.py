"""A real RTSP server for the stream tests: GStreamer's gst-rtsp-server (Debian packages
gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good and -bad), run by Debian's /usr/bin/python3 with
PyGObject. It streams an H.264 .mp4 without re-encoding, paced in real time, like a camera.

    /usr/bin/python3 tests/rtsp_server.py PORT /PATH VIDEO.mp4 [USER:PASSWORD]

Prints "ready" once it listens on 127.0.0.1.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, mount, video = sys.argv[1], sys.argv[2], sys.argv[3]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(f"( filesrc location={video} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")
factory.set_shared(True)
if len(sys.argv) > 4:
    user, password = sys.argv[4].split(":", 1)
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    allowed = "viewer, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
    permissions.add_role_from_structure(Gst.Structure.from_string(allowed)[0])
    factory.set_permissions(permissions)
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    sys.exit(f"rtsp_server: cannot listen on 127.0.0.1:{port}")
print("ready", flush=True)
GLib.MainLoop().run()
