//! ProConnect, the State's OpenID Connect login for agents and professionals, for coordinators and
//! administrators: the authorisation code flow with a confidential client, configured by the
//! provider's discovery URL, a client id and a secret.
//!
//! What is checked, and why: the `state` comes back to the browser that started (a cookie) and serves
//! once (no login CSRF, no replay); the ID token is signed by a key of the provider's key set (RS256
//! or ES256 only: no `none`, no shared-secret algorithms a public key could be confused with), was
//! issued by the discovered issuer for this client, has not expired, and carries the `nonce` of this
//! login (a token minted for another login cannot be replayed here); PKCE binds the code to this
//! login too. People are then matched by the email address the provider vouches for.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::Digest;

use crate::cache::{TtlCache, Weigh};
use crate::outbound;

/// How long a login may take between leaving for the provider and coming back.
pub const LOGIN_MINUTES: u64 = 10;
/// Leeway on the token's times, for clocks slightly apart.
const LEEWAY_SECONDS: i64 = 60;
/// How long the provider's discovery document and key set are kept.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The client's settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// `https://…/.well-known/openid-configuration`.
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Why a login did not succeed; the message is shown to the person.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered unreadably: try again later.
    #[error(
        "ProConnect ne répond pas pour le moment : réessayez dans quelques minutes, ou connectez-vous avec votre mot de passe."
    )]
    Unavailable,
    /// The answer failed a check: the login is refused.
    #[error("La connexion par ProConnect n'a pas pu être vérifiée ({0}) : recommencez depuis la page de connexion.")]
    Refused(&'static str),
}

/// What the provider's discovery document says.
#[derive(Debug)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    /// The token endpoint takes the secret in the body rather than in `Authorization: Basic`.
    secret_in_body: bool,
}

/// A login under way, by its `state`.
struct Pending {
    nonce: String,
    verifier: String,
    next: String,
}

impl Weigh for Pending {
    fn weight(&self) -> usize {
        self.nonce.len() + self.verifier.len() + self.next.len()
    }
}

/// The client: settings, the provider's metadata and keys as last read, and the logins under way.
pub struct Oidc {
    config: OidcConfig,
    metadata: Mutex<Option<(Instant, Arc<Metadata>)>>,
    keys: Mutex<Option<(Instant, Arc<Vec<Value>>)>>,
    pending: TtlCache<Pending>,
}

/// Where to send the browser to log in, and the `state` to keep in its cookie.
pub struct Start {
    pub location: String,
    pub state: String,
}

/// A successful login: the address the provider vouches for, and where to go next.
pub struct Identity {
    pub email: String,
    pub next: String,
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Oidc {
        Oidc {
            config,
            metadata: Mutex::new(None),
            keys: Mutex::new(None),
            // Bounded like every map an anonymous visitor can fill.
            pending: TtlCache::new(Duration::from_secs(LOGIN_MINUTES * 60), 10_000, 4 * 1024 * 1024),
        }
    }

    async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        if let Some((at, m)) = self.metadata.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let answer = outbound::get(&self.config.discovery_url).await.map_err(|_| OidcError::Unavailable)?;
        let v = answer.json().map_err(|_| OidcError::Unavailable)?;
        let field = |k: &str| text(&v, k).ok_or(OidcError::Unavailable);
        let methods: Vec<String> = v
            .get("token_endpoint_auth_methods_supported")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let m = Arc::new(Metadata {
            issuer: field("issuer")?,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            userinfo_endpoint: text(&v, "userinfo_endpoint"),
            jwks_uri: field("jwks_uri")?,
            // Basic is the default of the specification; the body only when Basic is not offered.
            secret_in_body: !methods.is_empty()
                && !methods.iter().any(|m| m == "client_secret_basic")
                && methods.iter().any(|m| m == "client_secret_post"),
        });
        *self.metadata.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    /// The provider's public keys; read again when a token names a key not among them (rotation).
    async fn key(&self, m: &Metadata, kid: Option<&str>, alg: &str) -> Result<Value, OidcError> {
        for fresh in [false, true] {
            let cached = self.keys.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let keys = match cached {
                Some((at, k)) if !fresh && at.elapsed() < METADATA_TTL => k,
                _ => {
                    let answer = outbound::get(&m.jwks_uri).await.map_err(|_| OidcError::Unavailable)?;
                    let v = answer.json().map_err(|_| OidcError::Unavailable)?;
                    let k = Arc::new(v.get("keys").and_then(Value::as_array).cloned().unwrap_or_default());
                    *self.keys.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), k.clone()));
                    k
                }
            };
            let kty = if alg == "RS256" { "RSA" } else { "EC" };
            let found = keys.iter().find(|k| {
                text(k, "kty").as_deref() == Some(kty)
                    && kid.is_none_or(|kid| text(k, "kid").as_deref() == Some(kid))
                    && text(k, "use").is_none_or(|u| u == "sig")
            });
            if let Some(k) = found {
                return Ok(k.clone());
            }
        }
        Err(OidcError::Refused("clé de signature inconnue"))
    }

    /// Starts a login: a `state`, a `nonce` and a PKCE verifier kept here, the browser sent to the
    /// provider.
    pub async fn start(&self, redirect_uri: &str, next: String) -> Result<Start, OidcError> {
        let m = self.metadata().await?;
        let (state, nonce, verifier) = (random(), random(), random());
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        self.pending.put(state.clone(), Arc::new(Pending { nonce, verifier, next }));
        let sep = if m.authorization_endpoint.contains('?') { '&' } else { '?' };
        Ok(Start { location: format!("{}{sep}{query}", m.authorization_endpoint), state })
    }

    /// Finishes a login: the `state` (once), the code exchanged, the ID token verified.
    pub async fn finish(&self, state: &str, code: &str, redirect_uri: &str) -> Result<Identity, OidcError> {
        let pending = self.pending.take(state).ok_or(OidcError::Refused("connexion expirée ou déjà utilisée"))?;
        let m = self.metadata().await?;
        // The serializer is not Send: the body is finished before any await.
        let (body, headers) = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_verifier", &pending.verifier);
            let mut headers = Vec::new();
            if m.secret_in_body {
                form.append_pair("client_id", &self.config.client_id)
                    .append_pair("client_secret", &self.config.client_secret);
            } else {
                // RFC 6749 §2.3.1: each part form-encoded before Basic.
                let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(&self.config.client_id),
                    enc(&self.config.client_secret)
                ));
                headers.push(("authorization", format!("Basic {basic}")));
            }
            (form.finish(), headers)
        };
        let answer =
            outbound::post_form(&m.token_endpoint, &headers, body).await.map_err(|_| OidcError::Unavailable)?;
        if answer.status == 400 || answer.status == 401 {
            // invalid_grant: the code expired, was used, or was not issued for this login.
            return Err(OidcError::Refused("code refusé par ProConnect"));
        }
        if answer.status != 200 {
            return Err(OidcError::Unavailable);
        }
        let tokens = answer.json().map_err(|_| OidcError::Unavailable)?;
        let id_token = text(&tokens, "id_token").ok_or(OidcError::Refused("jeton d'identité absent"))?;
        let claims = self.verified(&m, &id_token).await?;
        if claims.get("exp").and_then(Value::as_i64).is_none() {
            return Err(OidcError::Refused("jeton sans expiration"));
        }
        if text(&claims, "nonce").as_deref() != Some(pending.nonce.as_str()) {
            return Err(OidcError::Refused("nonce différent"));
        }
        let sub = text(&claims, "sub").ok_or(OidcError::Refused("identifiant absent"))?;
        let email = match text(&claims, "email") {
            Some(e) => e,
            None => {
                let access = text(&tokens, "access_token").ok_or(OidcError::Refused("jeton d'accès absent"))?;
                self.userinfo_email(&m, &access, &sub).await?
            }
        };
        Ok(Identity { email: email.trim().to_lowercase(), next: pending.next.clone() })
    }

    /// The email from the userinfo endpoint (JSON, or a JWT signed like the ID token, as ProConnect
    /// answers), for the same subject.
    async fn userinfo_email(&self, m: &Metadata, access: &str, sub: &str) -> Result<String, OidcError> {
        let url = m.userinfo_endpoint.as_deref().ok_or(OidcError::Refused("adresse électronique absente"))?;
        let answer = outbound::get_with(url, &[("authorization", format!("Bearer {access}"))])
            .await
            .map_err(|_| OidcError::Unavailable)?;
        if answer.status != 200 {
            return Err(OidcError::Unavailable);
        }
        let claims = match answer.json() {
            Ok(v) => v,
            Err(_) => {
                let jwt = std::str::from_utf8(&answer.body).map_err(|_| OidcError::Unavailable)?.trim().to_string();
                self.verified(m, &jwt).await?
            }
        };
        if text(&claims, "sub").as_deref() != Some(sub) {
            return Err(OidcError::Refused("identité incohérente"));
        }
        text(&claims, "email").ok_or(OidcError::Refused("adresse électronique absente"))
    }

    /// A signed JWT's claims, once its signature, issuer, audience and times are checked.
    async fn verified(&self, m: &Metadata, jwt: &str) -> Result<Value, OidcError> {
        let parts: Vec<&str> = jwt.split('.').collect();
        let [head, body, sig] = parts[..] else { return Err(OidcError::Refused("jeton mal formé")) };
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|_| OidcError::Refused("jeton mal formé"));
        let header: Value =
            serde_json::from_slice(&decode(head)?).map_err(|_| OidcError::Refused("jeton mal formé"))?;
        let alg = text(&header, "alg").unwrap_or_default();
        if alg != "RS256" && alg != "ES256" {
            return Err(OidcError::Refused("algorithme de signature refusé"));
        }
        let key = self.key(m, text(&header, "kid").as_deref(), &alg).await?;
        let signed = format!("{head}.{body}");
        let signature = decode(sig)?;
        let ok = if alg == "RS256" {
            let (n, e) = (decode(&text(&key, "n").unwrap_or_default())?, decode(&text(&key, "e").unwrap_or_default())?);
            ring::signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
                .is_ok()
        } else {
            let (x, y) = (decode(&text(&key, "x").unwrap_or_default())?, decode(&text(&key, "y").unwrap_or_default())?);
            let point = [&[4u8][..], &x, &y].concat();
            ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &signature)
                .is_ok()
        };
        if !ok {
            return Err(OidcError::Refused("signature invalide"));
        }
        let claims: Value =
            serde_json::from_slice(&decode(body)?).map_err(|_| OidcError::Refused("jeton mal formé"))?;
        if text(&claims, "iss").as_deref() != Some(m.issuer.as_str()) {
            return Err(OidcError::Refused("émetteur inattendu"));
        }
        let for_us = match claims.get("aud") {
            Some(Value::String(a)) => *a == self.config.client_id,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(&self.config.client_id)),
            _ => false,
        };
        if !for_us {
            return Err(OidcError::Refused("jeton destiné à un autre service"));
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(exp) = claims.get("exp").and_then(Value::as_i64)
            && exp + LEEWAY_SECONDS < now
        {
            return Err(OidcError::Refused("jeton expiré"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    /// A client whose provider metadata and key set are already known (one P-256 key), and a signer.
    fn client() -> (Oidc, Arc<Metadata>, impl Fn(&Value, &Value) -> String) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]), "y": URL_SAFE_NO_PAD.encode(&public[33..65])});
        let oidc = Oidc::new(OidcConfig {
            discovery_url: "http://127.0.0.1:1/".into(),
            client_id: "si".into(),
            client_secret: "s".into(),
        });
        *oidc.keys.lock().unwrap() = Some((Instant::now(), Arc::new(vec![jwk])));
        let m = Arc::new(Metadata {
            issuer: "https://fournisseur.example".into(),
            authorization_endpoint: String::new(),
            token_endpoint: String::new(),
            userinfo_endpoint: None,
            jwks_uri: "http://127.0.0.1:1/jwks".into(),
            secret_in_body: false,
        });
        let sign = move |header: &Value, claims: &Value| {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = pair.sign(&ring::rand::SystemRandom::new(), input.as_bytes()).unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
        };
        (oidc, m, sign)
    }

    #[tokio::test]
    async fn only_a_token_signed_by_the_provider_for_this_client_is_accepted() {
        let (oidc, m, sign) = client();
        let head = json!({"alg": "ES256", "kid": "k1"});
        let now = chrono::Utc::now().timestamp();
        let good =
            json!({"iss": "https://fournisseur.example", "aud": "si", "sub": "1", "exp": now + 60, "nonce": "n"});
        assert_eq!(oidc.verified(&m, &sign(&head, &good)).await.unwrap()["sub"], "1");

        let refused = |r: Result<Value, OidcError>| match r {
            Err(OidcError::Refused(why)) => why,
            other => panic!("expected a refusal, got {other:?}"),
        };
        // The body changed after signing.
        let token = sign(&head, &good);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = json!({"iss": "https://fournisseur.example", "aud": "si", "sub": "2", "exp": now + 60});
        let swapped = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(forged.to_string()), parts[2]);
        assert_eq!(refused(oidc.verified(&m, &swapped).await), "signature invalide");
        // No signature, or a shared-secret algorithm.
        for alg in ["none", "HS256"] {
            let unsigned = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string()),
                URL_SAFE_NO_PAD.encode(good.to_string())
            );
            assert_eq!(refused(oidc.verified(&m, &unsigned).await), "algorithme de signature refusé");
        }
        // Another issuer, another audience, expired.
        let mut other = good.clone();
        other["iss"] = json!("https://autre.example");
        assert_eq!(refused(oidc.verified(&m, &sign(&head, &other)).await), "émetteur inattendu");
        let mut other = good.clone();
        other["aud"] = json!(["autre-service"]);
        assert_eq!(refused(oidc.verified(&m, &sign(&head, &other)).await), "jeton destiné à un autre service");
        let mut other = good.clone();
        other["exp"] = json!(now - 3600);
        assert_eq!(refused(oidc.verified(&m, &sign(&head, &other)).await), "jeton expiré");
        assert_eq!(refused(oidc.verified(&m, "pas.un.jeton!").await), "jeton mal formé");
    }

    #[tokio::test]
    async fn a_state_serves_once_and_only_while_it_lives() {
        let (oidc, _, _) = client();
        assert!(matches!(oidc.finish("inconnu", "code", "http://x").await, Err(OidcError::Refused(_))));
        oidc.pending.put("s".into(), Arc::new(Pending { nonce: "n".into(), verifier: "v".into(), next: "/".into() }));
        // The provider is unreachable here: the state is used up all the same.
        assert!(matches!(oidc.finish("s", "code", "http://x").await, Err(OidcError::Unavailable)));
        assert!(matches!(oidc.finish("s", "code", "http://x").await, Err(OidcError::Refused(_))));
    }
}
