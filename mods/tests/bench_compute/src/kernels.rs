// The compute kernels, shared word for word by the mod (`lib.rs`) and the native build
// (`native/src/main.rs`): whatever the benchmark compares is the compiler's output for the same
// source.

/// Recursive Fibonacci: call overhead (`fib(30)` is 1.6 M calls).
pub fn fib(n: u32) -> u64 {
    if n < 2 {
        n as u64
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

/// A loop mixing integer and floating-point work, `n` iterations.
pub fn mixed_loop(n: u32) -> f64 {
    let mut acc = 0.0f64;
    let mut x: u32 = 12345;
    for i in 0..n {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let f = (x >> 8) as f64 * (1.0 / 16_777_216.0);
        acc += if i & 1 == 0 { f * 1.5 } else { -f * 0.5 };
        acc *= 0.999_999;
    }
    acc
}

#[derive(Clone, Copy)]
struct Particle {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
}

/// 1000 particles under gravity bouncing in a box, `steps` steps; returns a checksum.
pub fn particles(steps: u32) -> f64 {
    const N: usize = 1000;
    let mut ps = [Particle { x: 0.0, y: 0.0, vx: 0.0, vy: 0.0 }; N];
    for (i, p) in ps.iter_mut().enumerate() {
        let f = i as f32;
        *p = Particle { x: f % 640.0, y: (f * 7.0) % 480.0, vx: (f % 13.0) - 6.0, vy: (f % 7.0) - 3.0 };
    }
    let dt = 1.0 / 60.0;
    for _ in 0..steps {
        for p in ps.iter_mut() {
            p.vy += 9.8 * dt;
            p.x += p.vx * dt;
            p.y += p.vy * dt;
            if p.x < 0.0 || p.x > 640.0 {
                p.vx = -p.vx;
            }
            if p.y > 480.0 {
                p.y = 480.0;
                p.vy = -p.vy * 0.9;
            }
        }
    }
    ps.iter().map(|p| (p.x + p.y) as f64).sum()
}
