#pragma once
// `--demo`: two simulated providers on loopback, sim-primary and sim-backup, and a route "demo" over them, so the
// console can be tried, and incidents rehearsed, with no API keys.
#include "config/Config.h"
#include "sim/SimProvider.h"

#include <memory>
#include <string>

namespace fusebox::sim {

class DemoProviders {
public:
    static constexpr const char* kPrimary = "sim-primary";
    static constexpr const char* kBackup = "sim-backup";
    static constexpr const char* kRoute = "demo";

    DemoProviders();
    bool start(std::string& error);
    // Adds the two providers and the route (replacing any of the same names).
    void addTo(Config& config) const;
    // The demo's price table (the prices JSON format): the sims' models are priced like a large and a small
    // hosted model, so the Spend tab, wasted and saved spend move in a demo. Invented figures, not a vendor's.
    static const char* priceTable();
    // The simulated provider behind a demo provider id; nullptr for any other id.
    SimProvider* find(const std::string& providerId);

private:
    std::unique_ptr<SimProvider> m_primary;
    std::unique_ptr<SimProvider> m_backup;
};

} // namespace fusebox::sim
