//! A local Mosquitto broker on a free loopback port, with persistence on: what `cargo xtask demo`,
//! the tests and the benchmarks run (Debian's `mosquitto`, which `cargo xtask` installs), started and
//! stopped by its owner. Sangam itself never needs one: a scene names its broker.
//!
//! Cost: one process; starting waits until the port accepts connections (some milliseconds).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start waits for the broker's port.
const START_WAIT: Duration = Duration::from_secs(10);

/// A running `mosquitto` on 127.0.0.1, killed when dropped.
pub struct LocalBroker {
    child: Option<Child>,
    port: u16,
    conf: PathBuf,
    dir: tempfile::TempDir,
    tls: bool,
}

/// The PEM files of a TLS listener (Mosquitto reads them; OpenSSL does the TLS).
#[derive(Clone, Debug)]
pub struct BrokerTls {
    /// The CA that signed the server's certificate, and that client certificates must come from.
    pub ca_file: PathBuf,
    /// The server's certificate.
    pub cert_file: PathBuf,
    /// The server's private key.
    pub key_file: PathBuf,
    /// Refuse clients without a certificate from `ca_file` (mutual TLS).
    pub require_client_certificate: bool,
}

/// Whether this process runs as root.
fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Where Debian installs the broker.
fn program() -> Result<PathBuf, String> {
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].iter().map(PathBuf::from).find(|p| p.exists()).ok_or_else(|| {
        "the MQTT broker Mosquitto is not installed: apt-get install mosquitto (cargo xtask installs it)".into()
    })
}

impl LocalBroker {
    /// Starts a broker on a free port, its persistence in a folder of its own.
    pub fn start() -> Result<LocalBroker, String> {
        LocalBroker::start_as(None, None)
    }

    /// Starts a broker whose one listener is TLS (`mqtts://`).
    pub fn start_with_tls(tls: &BrokerTls) -> Result<LocalBroker, String> {
        LocalBroker::start_as(None, Some(tls))
    }

    /// Starts a broker that lets in only `user` with `password` (a Mosquitto password file made
    /// with `mosquitto_passwd`).
    pub fn start_with_login(user: &str, password: &str) -> Result<LocalBroker, String> {
        LocalBroker::start_as(Some((user, password)), None)
    }

    fn start_as(login: Option<(&str, &str)>, tls: Option<&BrokerTls>) -> Result<LocalBroker, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot make the broker's folder: {e}"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port for the broker: {e}"))?
            .port();
        let conf = dir.path().join("mosquitto.conf");
        // A window of 1,000 unacknowledged messages per client (Mosquitto's default is 20): Sangam
        // acknowledges only once a message is recorded.
        let mut text = format!(
            "listener {port} 127.0.0.1\npersistence true\npersistence_location {}/\n\
             autosave_interval 1\nmax_queued_messages 100000\nmax_inflight_messages 1000\n",
            dir.path().display()
        );
        if let Some(tls) = tls {
            text.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {}\n",
                tls.ca_file.display(),
                tls.cert_file.display(),
                tls.key_file.display(),
                tls.require_client_certificate
            ));
        }
        match login {
            None => text.push_str("allow_anonymous true\n"),
            Some((user, password)) => {
                let file = dir.path().join("passwords");
                let made = Command::new("mosquitto_passwd")
                    .args(["-c", "-b"])
                    .arg(&file)
                    .args([user, password])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .map_err(|e| format!("cannot run mosquitto_passwd (Debian mosquitto): {e}"))?;
                if !made.success() {
                    return Err(format!("mosquitto_passwd could not make {}", file.display()));
                }
                text.push_str(&format!("allow_anonymous false\npassword_file {}\n", file.display()));
            }
        }
        // Started as root (as in CI), Mosquitto drops to the `mosquitto` user, which cannot write the
        // persistence file into this folder: it would log the failure and keep nothing on disk.
        if running_as_root() {
            text.push_str("user root\n");
        }
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let mut broker = LocalBroker { child: None, port, conf, dir, tls: tls.is_some() };
        broker.run()?;
        Ok(broker)
    }

    fn run(&mut self) -> Result<(), String> {
        let child = Command::new(program()?)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start mosquitto: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_WAIT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() >= deadline {
                self.kill();
                return Err(format!("mosquitto did not listen on 127.0.0.1:{} within {START_WAIT:?}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mqtt://127.0.0.1:PORT`, or `mqtts://` for a TLS broker.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "mqtts" } else { "mqtt" }, self.port)
    }

    /// Where it keeps its persistence file.
    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// Kills it with SIGKILL (no chance to save anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with what it had saved.
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.run()
    }

    /// Starts it again on the same port having lost everything (its persistence file removed): the
    /// sessions it had are gone.
    pub fn restart_empty(&mut self) -> Result<(), String> {
        self.kill();
        let _ = std::fs::remove_file(self.dir.path().join("mosquitto.db"));
        self.run()
    }
}

/// Publishes each of `payloads` at QoS 1 to `topic` on the broker at 127.0.0.1:`port` as client
/// `client_id`, in order, and waits for every acknowledgement: one batch through a [`Publisher`] of
/// its own. For tests and benchmarks.
pub fn publish_all(port: u16, client_id: &str, topic: &str, payloads: Vec<Vec<u8>>) -> Result<(), String> {
    let mut publisher = Publisher::connect(&format!("mqtt://127.0.0.1:{port}"), client_id)?;
    let messages = payloads.into_iter().map(|p| (topic.to_string(), p)).collect();
    publisher.publish(messages).map_err(|e| format!("publisher {client_id}: {e}"))
}

/// A QoS 1 publisher on one connection (a real rumqttc client on a runtime of its own), for the
/// demo's feed, tests and benchmarks: [`Publisher::publish`] sends a batch and waits until the
/// broker has acknowledged all of it.
pub struct Publisher {
    runtime: tokio::runtime::Runtime,
    client: rumqttc::AsyncClient,
    acks: tokio::sync::mpsc::UnboundedReceiver<Result<(), String>>,
}

impl Publisher {
    /// Connects to the broker at `url` (`mqtt://host:port`, or `mqtts://` trusting the system's
    /// roots) as `client_id`.
    pub fn connect(url: &str, client_id: &str) -> Result<Publisher, String> {
        Publisher::connect_with_tls(url, client_id, &sangam_twin::TlsFiles::default())
    }

    /// Connects to the broker at `url` as `client_id`, with `tls`'s files for an `mqtts://` one.
    pub fn connect_with_tls(url: &str, client_id: &str, tls: &sangam_twin::TlsFiles) -> Result<Publisher, String> {
        use rumqttc::{Event, Packet};
        let address = sangam_twin::broker_address(url)?;
        let tls = address.tls.then(|| crate::tls::client_config(tls)).transpose()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let mut options = rumqttc::MqttOptions::new(client_id, address.host, address.port);
        options
            .set_keep_alive(Duration::from_secs(10))
            // Up to what a source reads, so a test can send one it does not hand on.
            .set_max_packet_size(crate::mqtt::PACKET_LIMIT, crate::mqtt::PACKET_LIMIT);
        if let Some(config) = tls {
            options.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config)));
        }
        let (client, mut events) = rumqttc::AsyncClient::new(options, 1024);
        let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
        // The event loop is polled by a task of its own; publishing happens beside it.
        runtime.spawn(async move {
            loop {
                let sent = match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => tx.send(Ok(())),
                    Ok(_) => Ok(()),
                    Err(e) => {
                        let _ = tx.send(Err(crate::tls::explain(&e.to_string())));
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok(())
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        });
        Ok(Publisher { runtime, client, acks })
    }

    /// Publishes each `(topic, payload)` at QoS 1, in order, and waits (at most 20 s) for the
    /// broker's acknowledgement of every one.
    pub fn publish(&mut self, messages: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        let n = messages.len();
        let client = self.client.clone();
        let acks = &mut self.acks;
        self.runtime.block_on(async move {
            for (topic, payload) in messages {
                client.publish(topic, rumqttc::QoS::AtLeastOnce, false, payload).await.map_err(|e| e.to_string())?;
            }
            let mut acked = 0;
            while acked < n {
                match tokio::time::timeout(Duration::from_secs(20), acks.recv()).await {
                    Ok(Some(Ok(()))) => acked += 1,
                    Ok(Some(Err(e))) => return Err(format!("the broker was lost while publishing ({e})")),
                    Ok(None) | Err(_) => return Err(format!("no acknowledgement for 20 s ({acked} of {n})")),
                }
            }
            Ok(())
        })
    }
}

impl Drop for LocalBroker {
    fn drop(&mut self) {
        self.kill();
    }
}
