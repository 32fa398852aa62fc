//! The engine's value types: colors, paints, paths, transforms, stroke and blend
//! settings. All of them are [`State`](crate::State), so a program can keep them in its
//! variables across save points.

use tiny_skia as sk;

/// A color, not premultiplied: red, green, blue and alpha, 0–255 each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, crate::State)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha: 0 transparent, 255 opaque.
    pub a: u8,
}

impl Color {
    /// Opaque black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// Opaque white.
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    /// Fully transparent.
    pub const TRANSPARENT: Color = Color::rgba(0, 0, 0, 0);

    /// An opaque color.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    /// A color with alpha.
    pub const fn rgba(r: u8, g: u8, b: u8, a: u8) -> Color {
        Color { r, g, b, a }
    }

    /// This color with alpha `a`.
    pub const fn with_alpha(self, a: u8) -> Color {
        Color { a, ..self }
    }

    pub(crate) fn to_skia(self) -> sk::Color {
        sk::Color::from_rgba8(self.r, self.g, self.b, self.a)
    }
}

/// What a fill or a stroke paints with. Gradient coordinates are in the surface's user
/// space: the current transform moves them with the shape.
#[derive(Clone, Debug, PartialEq, crate::State)]
pub enum Paint {
    /// One color.
    Solid(Color),
    /// A linear gradient from `from` to `to`; `stops` are (offset 0–1, color), in order.
    Linear {
        /// Where offset 0 is.
        from: (f32, f32),
        /// Where offset 1 is.
        to: (f32, f32),
        /// (offset, color) pairs.
        stops: Vec<(f32, Color)>,
    },
    /// A radial gradient around `center`, offset 1 at `radius`.
    Radial {
        /// The center (offset 0).
        center: (f32, f32),
        /// The radius of offset 1.
        radius: f32,
        /// (offset, color) pairs.
        stops: Vec<(f32, Color)>,
    },
}

impl From<Color> for Paint {
    fn from(c: Color) -> Paint {
        Paint::Solid(c)
    }
}

impl Paint {
    /// A linear gradient between two colors.
    pub fn linear(from: (f32, f32), to: (f32, f32), c0: Color, c1: Color) -> Paint {
        Paint::Linear {
            from,
            to,
            stops: vec![(0.0, c0), (1.0, c1)],
        }
    }

    /// A radial gradient between two colors.
    pub fn radial(center: (f32, f32), radius: f32, c0: Color, c1: Color) -> Paint {
        Paint::Radial {
            center,
            radius,
            stops: vec![(0.0, c0), (1.0, c1)],
        }
    }

    /// The rasterizer's shader; a degenerate gradient paints its first color.
    pub(crate) fn shader(&self) -> sk::Shader<'static> {
        let stops = |s: &[(f32, Color)]| -> Vec<sk::GradientStop> {
            s.iter()
                .map(|(o, c)| sk::GradientStop::new(*o, c.to_skia()))
                .collect()
        };
        let first = |s: &[(f32, Color)]| {
            sk::Shader::SolidColor(s.first().map_or(Color::TRANSPARENT, |x| x.1).to_skia())
        };
        match self {
            Paint::Solid(c) => sk::Shader::SolidColor(c.to_skia()),
            Paint::Linear { from, to, stops: s } => sk::LinearGradient::new(
                sk::Point::from_xy(from.0, from.1),
                sk::Point::from_xy(to.0, to.1),
                stops(s),
                sk::SpreadMode::Pad,
                sk::Transform::identity(),
            )
            .unwrap_or_else(|| first(s)),
            Paint::Radial {
                center,
                radius,
                stops: s,
            } => {
                let c = sk::Point::from_xy(center.0, center.1);
                sk::RadialGradient::new(
                    c,
                    0.0,
                    c,
                    *radius,
                    stops(s),
                    sk::SpreadMode::Pad,
                    sk::Transform::identity(),
                )
                .unwrap_or_else(|| first(s))
            }
        }
    }
}

/// A 2D affine transform: `x' = sx·x + kx·y + tx`, `y' = ky·x + sy·y + ty`.
#[derive(Clone, Copy, Debug, PartialEq, crate::State)]
pub struct Transform {
    /// Scale x.
    pub sx: f32,
    /// Skew y.
    pub ky: f32,
    /// Skew x.
    pub kx: f32,
    /// Scale y.
    pub sy: f32,
    /// Translate x.
    pub tx: f32,
    /// Translate y.
    pub ty: f32,
}

impl Default for Transform {
    fn default() -> Self {
        Transform::identity()
    }
}

impl Transform {
    /// No change.
    pub const fn identity() -> Transform {
        Transform {
            sx: 1.0,
            ky: 0.0,
            kx: 0.0,
            sy: 1.0,
            tx: 0.0,
            ty: 0.0,
        }
    }

    /// A translation.
    pub fn translate(tx: f32, ty: f32) -> Transform {
        Transform::from_skia(sk::Transform::from_translate(tx, ty))
    }

    /// A scale.
    pub fn scale(sx: f32, sy: f32) -> Transform {
        Transform::from_skia(sk::Transform::from_scale(sx, sy))
    }

    /// A rotation by `degrees` (clockwise on screen, where y points down).
    pub fn rotate(degrees: f32) -> Transform {
        Transform::from_skia(sk::Transform::from_rotate(degrees))
    }

    /// `other` applied first, then `self` (how canvas APIs stack transforms).
    pub fn pre(self, other: Transform) -> Transform {
        Transform::from_skia(self.to_skia().pre_concat(other.to_skia()))
    }

    /// Where the point `(x, y)` goes.
    pub fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let mut p = [sk::Point::from_xy(x, y)];
        self.to_skia().map_points(&mut p);
        (p[0].x, p[0].y)
    }

    pub(crate) fn to_skia(self) -> sk::Transform {
        sk::Transform::from_row(self.sx, self.ky, self.kx, self.sy, self.tx, self.ty)
    }

    fn from_skia(t: sk::Transform) -> Transform {
        Transform {
            sx: t.sx,
            ky: t.ky,
            kx: t.kx,
            sy: t.sy,
            tx: t.tx,
            ty: t.ty,
        }
    }
}

/// How a path's inside is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, crate::State)]
pub enum FillRule {
    /// Inside where the winding number is not zero.
    #[default]
    NonZero,
    /// Inside where a ray crosses the outline an odd number of times.
    EvenOdd,
}

impl FillRule {
    pub(crate) fn to_skia(self) -> sk::FillRule {
        match self {
            FillRule::NonZero => sk::FillRule::Winding,
            FillRule::EvenOdd => sk::FillRule::EvenOdd,
        }
    }
}

/// The shape of a stroke's open ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, crate::State)]
pub enum LineCap {
    /// Flat at the end point.
    #[default]
    Butt,
    /// A half circle.
    Round,
    /// A half square.
    Square,
}

/// The shape of a stroke's corners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, crate::State)]
pub enum LineJoin {
    /// Sharp, up to the miter limit.
    #[default]
    Miter,
    /// Rounded.
    Round,
    /// Cut off.
    Bevel,
}

/// How drawn pixels combine with the pixels under them (Porter–Duff and separable blend
/// modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, crate::State)]
#[allow(missing_docs)]
pub enum BlendMode {
    /// Over what is there (the default).
    #[default]
    SourceOver,
    /// Replaces what is there.
    Source,
    Clear,
    DestinationOver,
    SourceIn,
    SourceOut,
    SourceAtop,
    DestinationIn,
    DestinationOut,
    Xor,
    Plus,
    Multiply,
    Screen,
    Overlay,
    Darken,
    Lighten,
    Difference,
    Exclusion,
}

impl BlendMode {
    pub(crate) fn to_skia(self) -> sk::BlendMode {
        use sk::BlendMode as B;
        match self {
            BlendMode::SourceOver => B::SourceOver,
            BlendMode::Source => B::Source,
            BlendMode::Clear => B::Clear,
            BlendMode::DestinationOver => B::DestinationOver,
            BlendMode::SourceIn => B::SourceIn,
            BlendMode::SourceOut => B::SourceOut,
            BlendMode::SourceAtop => B::SourceAtop,
            BlendMode::DestinationIn => B::DestinationIn,
            BlendMode::DestinationOut => B::DestinationOut,
            BlendMode::Xor => B::Xor,
            BlendMode::Plus => B::Plus,
            BlendMode::Multiply => B::Multiply,
            BlendMode::Screen => B::Screen,
            BlendMode::Overlay => B::Overlay,
            BlendMode::Darken => B::Darken,
            BlendMode::Lighten => B::Lighten,
            BlendMode::Difference => B::Difference,
            BlendMode::Exclusion => B::Exclusion,
        }
    }
}

/// The shipped typefaces (DejaVu), identical on every machine: no system font lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, crate::State)]
pub enum Font {
    /// DejaVu Sans.
    #[default]
    Sans,
    /// DejaVu Sans Bold.
    SansBold,
    /// DejaVu Sans Mono.
    Mono,
}

/// A path: straight and curved segments in one or more contours. Build it with the
/// methods, which return the path for chaining.
///
/// ```
/// use ckpt::gfx::Path;
/// let mut p = Path::new();
/// p.move_to(10.0, 10.0).line_to(90.0, 10.0).line_to(50.0, 80.0).close();
/// assert!(!p.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, crate::State)]
pub struct Path {
    /// One verb per segment: 0 move, 1 line, 2 quad, 3 cubic, 4 close.
    verbs: Vec<u8>,
    /// The segments' points, x and y interleaved.
    points: Vec<f32>,
}

impl Path {
    /// An empty path.
    pub fn new() -> Path {
        Path::default()
    }

    /// A rectangle.
    pub fn rect(x: f32, y: f32, w: f32, h: f32) -> Path {
        let mut p = Path::new();
        p.move_to(x, y)
            .line_to(x + w, y)
            .line_to(x + w, y + h)
            .line_to(x, y + h)
            .close();
        p
    }

    /// A circle.
    pub fn circle(cx: f32, cy: f32, r: f32) -> Path {
        Path::ellipse(cx, cy, r, r)
    }

    /// An ellipse with radii `rx`, `ry`, of four cubic arcs.
    pub fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32) -> Path {
        const K: f32 = 0.552_284_8;
        let (kx, ky) = (rx * K, ry * K);
        let mut p = Path::new();
        p.move_to(cx + rx, cy)
            .cubic_to(cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry)
            .cubic_to(cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy)
            .cubic_to(cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry)
            .cubic_to(cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy)
            .close();
        p
    }

    /// A polyline through `points` (closed with `close`).
    pub fn polyline(points: &[(f32, f32)], close: bool) -> Path {
        let mut p = Path::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i == 0 {
                p.move_to(*x, *y);
            } else {
                p.line_to(*x, *y);
            }
        }
        if close && !points.is_empty() {
            p.close();
        }
        p
    }

    /// Starts a contour at `(x, y)`.
    pub fn move_to(&mut self, x: f32, y: f32) -> &mut Path {
        self.push(0, &[x, y])
    }

    /// A straight segment to `(x, y)`.
    pub fn line_to(&mut self, x: f32, y: f32) -> &mut Path {
        self.push(1, &[x, y])
    }

    /// A quadratic Bézier segment with control point `(x1, y1)`.
    pub fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) -> &mut Path {
        self.push(2, &[x1, y1, x, y])
    }

    /// A cubic Bézier segment with control points `(x1, y1)` and `(x2, y2)`.
    pub fn cubic_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) -> &mut Path {
        self.push(3, &[x1, y1, x2, y2, x, y])
    }

    /// Closes the current contour.
    pub fn close(&mut self) -> &mut Path {
        self.push(4, &[])
    }

    /// Whether it has no segments.
    pub fn is_empty(&self) -> bool {
        self.verbs.is_empty()
    }

    fn push(&mut self, verb: u8, pts: &[f32]) -> &mut Path {
        self.verbs.push(verb);
        self.points.extend_from_slice(pts);
        self
    }

    /// The rasterizer's path, or `None` when it has no area or length (nothing to draw)
    /// or its points do not match its verbs (a corrupt image).
    pub(crate) fn to_skia(&self) -> Option<sk::Path> {
        let mut b = sk::PathBuilder::new();
        let mut pts = self.points.iter().copied();
        let mut next = || pts.next();
        for v in &self.verbs {
            match v {
                0 => b.move_to(next()?, next()?),
                1 => b.line_to(next()?, next()?),
                2 => b.quad_to(next()?, next()?, next()?, next()?),
                3 => b.cubic_to(next()?, next()?, next()?, next()?, next()?, next()?),
                4 => b.close(),
                _ => return None,
            }
        }
        b.finish()
    }
}

/// A button of the mouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, crate::State)]
pub enum Button {
    /// The left (primary) button.
    Left,
    /// The middle button (or wheel press).
    Middle,
    /// The right button.
    Right,
}

/// A key of the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, crate::State)]
pub enum Key {
    /// A key that types this character (as typed, without modifiers but shift).
    Char(char),
    /// Escape.
    Escape,
    /// Return / Enter.
    Enter,
    /// Backspace.
    Backspace,
    /// Tab.
    Tab,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Another key, by its X11 keysym.
    Other(u32),
}

/// An input of the display: keys, the mouse, the window resized or closed. Every event
/// reaches the program through [`poll_event`](super::poll_event) or
/// [`wait_event`](super::wait_event), one choke point, so record & replay covers them.
#[derive(Clone, Debug, PartialEq, crate::State)]
pub enum Event {
    /// A key went down.
    KeyDown(Key),
    /// A key went up.
    KeyUp(Key),
    /// The pointer moved to `(x, y)` (surface pixels).
    MouseMove {
        /// x.
        x: f32,
        /// y.
        y: f32,
    },
    /// A button went down at `(x, y)`.
    MouseDown {
        /// x.
        x: f32,
        /// y.
        y: f32,
        /// Which button.
        button: Button,
    },
    /// A button went up at `(x, y)`.
    MouseUp {
        /// x.
        x: f32,
        /// y.
        y: f32,
        /// Which button.
        button: Button,
    },
    /// The window's size changed.
    Resized {
        /// New width in pixels.
        width: u32,
        /// New height in pixels.
        height: u32,
    },
    /// The window was closed (by the user or the window manager).
    Closed,
}
