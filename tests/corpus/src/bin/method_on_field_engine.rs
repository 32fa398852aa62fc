//! `self.engine.step()` inside `Car::drive`, where `Engine`'s impl is checkpointable and
//! `step` saves every few ticks.
#[derive(ckpt::State)]
struct Engine {
    rpm: u32,
    fuel: f64,
    ticks: u64,
}

#[ckpt::checkpointable]
impl Engine {
    fn step(&mut self, throttle: f64) -> f64 {
        self.ticks += 1;
        let target = (800.0 + 5200.0 * throttle) as u32;
        self.rpm = (self.rpm + target) / 2;
        self.fuel -= self.rpm as f64 * 0.00001;
        if self.ticks % 5 == 0 {
            ckpt::save().expect("checkpoint");
            println!(
                "  engine tick {}: {} rpm, fuel {:.3}",
                self.ticks, self.rpm, self.fuel
            );
        }
        self.rpm as f64 * 0.02
    }
}

#[derive(ckpt::State)]
struct Car {
    name: String,
    engine: Engine,
    odometer: f64,
}

#[ckpt::checkpointable]
impl Car {
    fn drive(&mut self, throttle: f64, secs: u32) {
        for _ in 0..secs {
            let power = self.engine.step(throttle);
            self.odometer += power * 0.01;
        }
        println!(
            "{} drove {secs}s at throttle {throttle}: odometer {:.2}",
            self.name, self.odometer
        );
    }
}

#[ckpt::checkpointable]
fn main() {
    let mut car = Car {
        name: String::from("roadster"),
        engine: Engine {
            rpm: 800,
            fuel: 40.0,
            ticks: 0,
        },
        odometer: 0.0,
    };
    car.drive(0.5, 10);
    car.drive(0.9, 15);
    car.drive(0.2, 20);
    println!(
        "final: {:.2} km, {:.3} l left",
        car.odometer, car.engine.fuel
    );
}
