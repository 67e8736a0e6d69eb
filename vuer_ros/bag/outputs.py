"""Where rendered frames go: a new bag, an MP4 video, a folder of PNGs.

All three are written by one :class:`OutputWriter` thread, fed through a
bounded queue (the renderer waits when the writers fall behind, so memory
stays flat and no frame is ever dropped). The thread opens, writes and closes
every output itself (sqlite3 connections belong to the thread that made them).
Closing always runs, after an error or an interruption too, so a partial
output is a valid, readable file: the bag's index and metadata are written,
the video's moov atom is written.

Output bag (:class:`BagOutput`), as the live node publishes (ros/viewer_node.py):
- every input message copied byte for byte with its own connection (topic,
  type, definition, hash, serialization format, offered QoS);
- ``/vuer/image`` (sensor_msgs/Image rgb8), ``/vuer/image/compressed``
  (``"rgb8; jpeg compressed bgr8"``, image_transport's format string),
  ``/vuer/camera_info``, ``/vuer/depth`` (32FC1, with render.depth), each
  stamped with the tick's bag time (header and bag timestamp alike), frame id
  the camera's optical frame; listed cameras on ``/vuer/<name>/image``, ...;
- the optical frames of the cameras fixed on TF on ``/tf_static`` (transient
  local), in one message at the first tick; a camera that moves (following a
  target frame, on a camera path) on ``/tf`` with each frame (in the input's /tf
  connection when it has one).
``OUT.mcap`` / ``OUT.db3``: one storage file at exactly that path (written in
``OUT.partial/`` and moved there when closed); any other path: a rosbag2
folder (sqlite3 unless ``storage="mcap"``).

Video and PNGs: for the node's own camera ``--video OUT.mp4`` and ``--frames DIR``
as given; for listed cameras one of each per camera, ``OUT_<name>.mp4`` beside it
and ``DIR/<name>/`` (:func:`video_paths`, :func:`frames_dirs`).

A bag rendered in segments (segments.py) splits this work: each segment's
worker writes its PNGs and spools its frames (their bag messages, made by
:func:`frame_messages`, or the images); the join (join.py) writes the output
bag, the video and the PNG index from the spools, through the same classes.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
from rosbags.interfaces import Connection, ConnectionExtRosbag2, Qos, QosDurability, QosHistory
from rosbags.interfaces import QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from ..render.camera_spec import CameraSpec
from ..view.image_fields import Fields, Wants, image_fields
from ..view.kinds import TF, TF_STATIC, TF_STATIC_TOPIC, TF_TOPIC
from ..view.offline import RenderedTick
from .errors import OutputError
from .reader import BagInput
from .spool import Messages, SpooledFrame, SpoolWriter

logger = logging.getLogger("vuer_ros.bag")
STORAGE_BY_SUFFIX = {".mcap": StoragePlugin.MCAP, ".db3": StoragePlugin.SQLITE3}
STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}

_DEFAULT_TIME = QosTime(0, 0)


def _qos(depth: int, durability: QosDurability) -> Qos:
    return Qos(QosHistory.KEEP_LAST, depth, QosReliability.RELIABLE, durability, _DEFAULT_TIME,
               _DEFAULT_TIME, QosLiveliness.AUTOMATIC, _DEFAULT_TIME, False)


IMAGE_QOS = _qos(2, QosDurability.VOLATILE)            # the node's IMAGE_QOS
TF_QOS = _qos(100, QosDurability.VOLATILE)              # tf2_ros' TransformBroadcaster
STATIC_TF_QOS = _qos(1, QosDurability.TRANSIENT_LOCAL)  # the node's STATIC_BROADCAST_QOS


def output_topics(depth: bool, cameras: Sequence[CameraSpec] = (CameraSpec(),)) -> list[str]:
    out = []
    for spec in cameras:
        t = spec.topics
        out += ["/" + t.image, "/" + t.compressed, "/" + t.camera_info] + (["/" + t.depth] if depth else [])
    return out


def video_paths(video: Path, cameras: Sequence[CameraSpec]) -> dict[str, Path]:
    """Camera name -> its MP4: ``video`` itself for the node's own camera, ``<stem>_<name>``
    beside it for each listed camera."""
    return {spec.name: video if not spec.name else video.with_name(f"{video.stem}_{spec.name}"
                                                                   f"{video.suffix}")
            for spec in cameras}


def frames_dirs(frames: Path, cameras: Sequence[CameraSpec]) -> dict[str, Path]:
    """Camera name -> its PNG folder: ``frames`` itself for the node's own camera,
    ``frames/<name>/`` for each listed camera."""
    return {spec.name: frames / spec.name if spec.name else frames for spec in cameras}


def bag_layout(path: Path, storage: str | None) -> tuple[StoragePlugin, bool]:
    """(storage plugin, single file?) for an output path."""
    plugin = STORAGE_BY_SUFFIX.get(path.suffix.lower())
    if plugin is not None:
        if storage is not None and STORAGES[storage] != plugin:
            raise OutputError(f"output {path}: the extension says {plugin.name.lower()}, "
                              f"--storage says {storage}; drop one")
        return plugin, True
    return STORAGES[storage or "sqlite3"], False


def frame_messages(tick: RenderedTick, store: Any, jpeg_quality: int, depth: bool) -> Messages:
    """One camera's frame as the live node publishes it (image_fields.py), stamped in bag
    time: ``(topic, type, CDR bytes)`` in the order the output bag writes them (the
    camera's pose on ``/tf`` too when it moves)."""
    try:
        fields = image_fields(tick.rgb, tick.depth, tick.camera, tick.stamp_ns,
                              tick.spec.optical_frame, jpeg_quality, Wants(depth=depth),
                              tick.camera_tf_parent, tick.spec.topics)
    except ValueError as e:
        raise OutputError(f"frame {tick.index}: {e}") from None
    return [(topic if topic == TF_TOPIC else "/" + topic, f.type,
             bytes(store.serialize_cdr(to_rosbags(store, f), f.type)))
            for topic, f in fields.items()]


def image_rgb(messages: Messages, store: Any) -> np.ndarray:
    """The rgb8 image of a frame's messages, HxWx3."""
    for _, msgtype, raw in messages:
        if msgtype == "sensor_msgs/msg/Image":
            msg = store.deserialize_cdr(raw, msgtype)
            if msg.encoding == "rgb8":
                return np.asarray(msg.data, dtype=np.uint8).reshape(msg.height, msg.width, 3)
    raise OutputError("a spooled frame has no rgb8 image")


def to_rosbags(store: Any, fields: Fields) -> Any:
    """The rosbags message with these field values (nested Fields recursively)."""
    values = {name: to_rosbags(store, v) if isinstance(v, Fields)
              else [to_rosbags(store, x) for x in v] if isinstance(v, list) else v
              for name, v in fields.values.items()}
    return store.types[fields.type](**values)


class BagOutput:
    """The output bag: input messages copied, renders added. Use from one thread."""

    def __init__(self, path: Path, source: BagInput, *, storage: str | None = None,
                 depth: bool = False, jpeg_quality: int = 90,
                 cameras: Sequence[CameraSpec] = (CameraSpec(),)) -> None:
        self.path = path
        self.source = source
        self.plugin, self.single_file = bag_layout(path, storage)
        self.depth = depth
        self.jpeg_quality = int(jpeg_quality)
        self.store = get_typestore(Stores.ROS2_JAZZY)
        self.own_topics = set(output_topics(True, cameras))
        self._bagdir = path.with_name(path.name + ".partial") if self.single_file else path
        if self.single_file and self._bagdir.exists():
            logger.info("removing %s left over from an earlier run", self._bagdir)
            shutil.rmtree(self._bagdir)
        try:
            self.writer = Writer(self._bagdir, version=Writer.VERSION_LATEST,
                                 storage_plugin=self.plugin)
            self.writer.open()
        except Exception as e:
            raise OutputError(f"cannot create output bag {path}: {e}") from None
        self._copies: dict[tuple[str, str, Any], Connection | None] = {}
        self._skipped_topics: set[str] = set()
        self._own: dict[str, Connection] = {}
        self._static_tf: Connection | None = None
        self._tf: Connection | None = None
        self.frames = 0
        self.copied = 0

    # -- copying -------------------------------------------------------------------------------
    def _copy_connection(self, conn: Connection) -> Connection | None:
        ext = conn.ext
        assert isinstance(ext, ConnectionExtRosbag2)
        key = (conn.topic, conn.msgtype, ext.serialization_format, tuple(ext.offered_qos_profiles))
        if key in self._copies:
            return self._copies[key]
        out: Connection | None = None
        if conn.topic in self.own_topics:
            logger.warning("input topic %s is replaced by this render's images; its messages are "
                           "not copied", conn.topic)
        else:
            definition = self.source.definition(conn)
            if definition is None:
                logger.warning("%s (%s): the bag holds no definition of this type; its messages "
                               "are not copied", conn.topic, conn.msgtype)
                self._skipped_topics.add(conn.topic)
            else:
                msgdef, digest = definition
                qos = ext.offered_qos_profiles
                mine = self._own.get(conn.topic)
                if mine is not None and mine.msgtype == conn.msgtype:
                    # the camera's /tf_static went out first (the input's came after the first
                    # tick): one connection for both, as on a live /tf_static
                    self._copies[key] = mine
                    return mine
                if not qos and conn.topic == TF_STATIC_TOPIC and conn.msgtype == TF_STATIC.msgtype:
                    qos = [STATIC_TF_QOS]   # MCAP writers other than rosbag2 record no QoS
                out = self.writer.add_connection(
                    conn.topic, conn.msgtype, msgdef=msgdef, rihs01=digest,
                    serialization_format=ext.serialization_format, offered_qos_profiles=qos)
                if conn.topic == TF_STATIC_TOPIC and conn.msgtype == TF_STATIC.msgtype and self._static_tf is None:
                    self._static_tf = out
                if conn.topic == TF_TOPIC and conn.msgtype == TF.msgtype and self._tf is None:
                    self._tf = out
        self._copies[key] = out
        return out

    def copy(self, conn: Connection, t_ns: int, raw: bytes) -> None:
        out = self._copy_connection(conn)
        if out is not None:
            self.writer.write(out, t_ns, raw)
            self.copied += 1

    # -- renders ---------------------------------------------------------------------------------
    def _connection(self, topic: str, msgtype: str, qos: Qos) -> Connection:
        conn = self._own.get(topic)
        if conn is None:
            conn = self.writer.add_connection(topic, msgtype, typestore=self.store,
                                              offered_qos_profiles=[qos])
            self._own[topic] = conn
        return conn

    def write_camera_tf(self, stamp_ns: int, tf: Fields) -> None:
        """The optical frames on /tf_static (as the node's static broadcaster)."""
        conn = self._static_tf or self._connection(TF_STATIC_TOPIC, TF_STATIC.msgtype, STATIC_TF_QOS)
        self.writer.write(conn, stamp_ns, self.store.serialize_cdr(to_rosbags(self.store, tf), tf.type))

    def write_frame(self, tick: RenderedTick) -> None:
        """The frame as the live node publishes it (:func:`frame_messages`)."""
        self.write_messages(tick.stamp_ns, frame_messages(tick, self.store, self.jpeg_quality,
                                                          self.depth))

    def write_messages(self, stamp_ns: int, messages: Messages) -> None:
        """A frame's messages (:func:`frame_messages`'s, here or in a segment's worker)."""
        for topic, msgtype, raw in messages:
            conn = (self._tf or self._connection(TF_TOPIC, TF.msgtype, TF_QOS)) \
                if topic == TF_TOPIC else self._connection(topic, msgtype, IMAGE_QOS)
            self.writer.write(conn, stamp_ns, raw)
        self.frames += 1

    def close(self) -> None:
        """Write the index and metadata; move a single-file bag into place."""
        self.writer.close()
        if self.single_file:
            files = [p for p in self._bagdir.iterdir() if p.name != "metadata.yaml"]
            if len(files) != 1:
                raise OutputError(f"output bag {self._bagdir}: expected one storage file, "
                                  f"found {[p.name for p in files]}")
            files[0].replace(self.path)
            shutil.rmtree(self._bagdir, ignore_errors=True)


class VideoOutput:
    """H.264 MP4 (libx264 from PyAV's wheels; MPEG-4 part 2 where that is missing),
    one video frame per tick at the render rate; pts = tick index, so the video's
    clock is the bag's (a tick without a frame leaves a gap, not a shift)."""

    def __init__(self, path: Path, rate: float, width: int, height: int, crf: int = 18) -> None:
        import av

        self.path = path
        self.width, self.height = width + width % 2, height + height % 2   # 4:2:0 needs even sizes
        try:
            self.container = av.open(str(path), mode="w", format="mp4")
        except Exception as e:
            raise OutputError(f"cannot create video {path}: {e}") from None
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self.stream = self.container.add_stream(codec, rate=Fraction(repr(float(rate))))
        self.stream.width, self.stream.height = self.width, self.height
        self.stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            # The same frames must make the same bytes (a video joined from segments is the
            # one a single run makes): the bitstream depends on the thread count, so it is
            # fixed, and x264's macroblock tree reads memory it never wrote at small sizes
            # (160x120, 320x240: the video changed with what malloc handed out), so it is off.
            self.stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1",
                                   "x264-params": "mbtree=0"}
        else:
            self.stream.bit_rate = 8_000_000
        self._av = av
        self.frames = 0

    def write(self, index: int, rgb: np.ndarray) -> None:
        """The frame of tick ``index``."""
        if rgb.shape[1] != self.width or rgb.shape[0] != self.height:
            rgb = cv2.copyMakeBorder(rgb, 0, self.height - rgb.shape[0], 0,
                                     self.width - rgb.shape[1], cv2.BORDER_REPLICATE)
        # to 4:2:0 here, with OpenCV (BT.601, limited range, as swscale's default)
        yuv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420)
        frame = self._av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = index
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()


def png_name(index: int) -> str:
    return f"frame_{index:06d}.png"


class FramesOutput:
    """``frame_NNNNNN.png`` per tick (N = tick index) and ``timestamps.csv``
    (index, bag time in ns). A segment's worker writes only its PNGs
    (``index=False``), the join only the index (``pngs=False``)."""

    def __init__(self, folder: Path, *, pngs: bool = True, index: bool = True) -> None:
        self.folder = folder
        self.pngs = pngs
        self._csv = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if index:
                self._csv = open(folder / "timestamps.csv", "w")
        except OSError as e:
            raise OutputError(f"cannot write frames to {folder}: {e.strerror or e}") from None
        if self._csv is not None:
            self._csv.write("index,stamp_ns,file\n")
        self.frames = 0

    def write(self, index: int, stamp_ns: int, rgb: np.ndarray | None) -> None:
        """Tick ``index``'s frame (``rgb``: None when only indexing)."""
        name = png_name(index)
        if self.pngs:
            assert rgb is not None
            if not cv2.imwrite(str(self.folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
                raise OutputError(f"cannot write {self.folder / name}")
        if self._csv is not None:
            self._csv.write(f"{index},{stamp_ns},{name}\n")
            self._csv.flush()
        self.frames += 1

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()


# -- the writer thread ------------------------------------------------------------------------------
_STOP = object()


class OutputWriter:
    """Owns the outputs on its own thread. ``start()`` opens them (raising the open
    error, if any); ``put`` queues work (waiting while the queue is full); ``close()``
    writes what is queued, then closes every output.

    Items: ``("copy", [(connection, t, raw), ...])``, ``("camera_tf", t, Fields)``,
    ``("frame", RenderedTick)`` (offline.py's ``Outputs``), and ``("spooled",
    SpooledFrame)``: a frame a segment's worker rendered, ``("index", SpooledFrame)``:
    only its PNG's line in the index (the join, join.py).
    A segment's worker writes ``spool`` (its frames, for the join; with ``spool_messages``
    the bag messages, with ``spool_rgb`` the image) and the PNGs of ``frames`` (with
    ``frames_index=False``); the join writes the rest."""

    def __init__(self, *, source: BagInput, bag: Path | None = None, video: Path | None = None,
                 frames: Path | None = None, storage: str | None = None, depth: bool = False,
                 jpeg_quality: int = 90, rate: float = 10.0,
                 cameras: Sequence[CameraSpec] = (CameraSpec(),), max_queue: int = 6,
                 frames_pngs: bool = True, frames_index: bool = True, spool: Path | None = None,
                 spool_messages: bool = False, spool_rgb: bool = False) -> None:
        self._spec: dict[str, Any] = dict(
            source=source, bag=bag, video=video, frames=frames, storage=storage, depth=depth,
            jpeg_quality=jpeg_quality, rate=rate, frames_pngs=frames_pngs,
            frames_index=frames_index, spool=spool)
        self.spool_messages, self.spool_rgb = spool_messages, spool_rgb
        self.cameras = tuple(cameras)
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue * len(self.cameras))
        self.bag: BagOutput | None = None
        self.videos: dict[str, VideoOutput] = {}     # camera name -> its MP4
        self.frames: dict[str, FramesOutput] = {}    # camera name -> its PNGs
        self.spool: SpoolWriter | None = None
        self._store: Any = None   # serialises a worker's frame messages
        self.error: BaseException | None = None
        self.written = 0
        self._opened = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def wants_copies(self) -> bool:
        return self._spec["bag"] is not None

    @property
    def wants_index(self) -> bool:
        """It writes a PNG index (timestamps.csv)."""
        return self._spec["frames"] is not None and bool(self._spec["frames_index"])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vuer-bag-writer", daemon=True)
        self._thread.start()
        self._opened.wait()
        if self.error is not None:
            self._thread.join()
            raise self.error

    def put(self, item: Any, block: bool = True) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(item, block=block)

    @property
    def full(self) -> bool:
        return self.queue.full()

    def close(self) -> None:
        """Write everything queued, then close all outputs (always; errors re-raised)."""
        if self._thread is None:
            return
        self.queue.put(_STOP)
        self._thread.join()
        self._thread = None
        if self.error is not None:
            raise self.error

    # -- thread ----------------------------------------------------------------------------------
    def _open(self) -> None:
        s = self._spec
        by_name = {spec.name: spec for spec in self.cameras}
        if s["bag"] is not None:
            self.bag = BagOutput(s["bag"], s["source"], storage=s["storage"], depth=s["depth"],
                                 jpeg_quality=s["jpeg_quality"], cameras=self.cameras)
        if s["video"] is not None:
            for name, path in video_paths(s["video"], self.cameras).items():
                self.videos[name] = VideoOutput(path, s["rate"], by_name[name].width,
                                                by_name[name].height)
        if s["frames"] is not None:
            for name, path in frames_dirs(s["frames"], self.cameras).items():
                self.frames[name] = FramesOutput(path, pngs=s["frames_pngs"],
                                                 index=s["frames_index"])
        if s["spool"] is not None:
            try:
                self.spool = SpoolWriter(s["spool"])
            except OSError as e:
                raise OutputError(f"cannot write {s['spool']}: {e.strerror or e}") from None
        if self.bag is not None:
            self._store = self.bag.store
        elif self.spool_messages or self.videos:
            self._store = get_typestore(Stores.ROS2_JAZZY)

    def _run(self) -> None:
        try:
            self._open()
        except BaseException as e:
            self.error = e
            self._close_all()
            self._opened.set()
            return
        self._opened.set()
        while True:
            item = self.queue.get()
            if item is _STOP:
                break
            if self.error is not None:
                continue   # keep draining so the producer never blocks; it sees the error
            try:
                self._handle(item)
            except BaseException as e:
                self.error = e if isinstance(e, OutputError) else OutputError(
                    f"writing the outputs failed: {type(e).__name__}: {e}")
        self._close_all()

    def _handle(self, item: Any) -> None:
        kind = item[0]
        if kind == "copy":
            if self.bag is not None:
                for conn, t, raw in item[1]:
                    self.bag.copy(conn, t, raw)
        elif kind == "camera_tf":
            if self.bag is not None:
                self.bag.write_camera_tf(item[1], item[2])
        elif kind == "frame":
            tick: RenderedTick = item[1]
            if self.bag is not None:
                self.bag.write_frame(tick)
            video, frames = self.videos.get(tick.spec.name), self.frames.get(tick.spec.name)
            if video is not None:
                video.write(tick.index, tick.rgb)
            if frames is not None:
                frames.write(tick.index, tick.stamp_ns, tick.rgb)
            if self.spool is not None:
                s = self._spec
                messages = frame_messages(tick, self._store, s["jpeg_quality"], s["depth"]) \
                    if self.spool_messages else None
                self.spool.write(SpooledFrame(tick.index, tick.stamp_ns, tick.spec.name, messages,
                                              tick.rgb if self.spool_rgb else None))
            self.written += 1
        elif kind == "spooled":
            frame: SpooledFrame = item[1]
            if self.bag is not None:
                assert frame.messages is not None
                self.bag.write_messages(frame.stamp_ns, frame.messages)
            video, frames = self.videos.get(frame.camera), self.frames.get(frame.camera)
            if video is not None:
                rgb = frame.rgb if frame.rgb is not None else \
                    image_rgb(frame.messages or [], self._store)
                video.write(frame.index, rgb)
            if frames is not None:
                frames.write(frame.index, frame.stamp_ns, frame.rgb)
            self.written += 1
        elif kind == "index":   # a PNG a segment wrote after the join stopped
            frames = self.frames.get(item[1].camera)
            if frames is not None:
                frames.write(item[1].index, item[1].stamp_ns, None)

    def _close_all(self) -> None:
        for out in (self.bag, *self.videos.values(), *self.frames.values(), self.spool):
            if out is None:
                continue
            try:
                out.close()
            except BaseException as e:
                logger.error("closing %s failed: %s", getattr(out, "path", getattr(out, "folder", "?")), e)
                if self.error is None:
                    self.error = OutputError(f"closing an output failed: {e}")
